//! The dashboard's arithmetic: days grouped into weeks and months, a chart's bars laid out,
//! and bursts of one-clicks from one network (a security gateway that follows every link of
//! the mail it scans). Pure: the store counts, the page draws.

use super::segment::Day;

/// How the dashboard groups days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bucket {
    #[default]
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl Bucket {
    pub const ALL: [Bucket; 3] = [Bucket::Day, Bucket::Week, Bucket::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The first day of the bucket `day` falls in.
    pub fn start(self, day: &Day) -> Day {
        match self {
            Bucket::Day => day.clone(),
            Bucket::Week => {
                let n = days(day);
                // 1970-01-01 was a Thursday: Monday is three days later.
                let monday = n - (n + 3).rem_euclid(7);
                from_days(monday)
            }
            Bucket::Month => {
                Day::parse(&format!("{}-01", &day.as_str()[..7])).unwrap_or_else(|| day.clone())
            }
        }
    }

    /// The buckets from `from`'s to `to`'s, in order (at most `max`).
    pub fn range(self, from: &Day, to: &Day, max: usize) -> Vec<Day> {
        let mut out = Vec::new();
        let mut d = self.start(from);
        while d <= *to && out.len() < max {
            out.push(d.clone());
            d = match self {
                Bucket::Day => from_days(days(&d) + 1),
                Bucket::Week => from_days(days(&d) + 7),
                Bucket::Month => {
                    let (y, m) = (year(&d), month(&d));
                    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                    match Day::parse(&format!("{y:04}-{m:02}-01")) {
                        Some(n) => n,
                        None => break,
                    }
                }
            };
        }
        out
    }

    /// A bucket's label: the day, "week of" its Monday, or the month.
    pub fn label(self, start: &Day) -> String {
        match self {
            Bucket::Day => start.as_str().to_owned(),
            Bucket::Week => format!("week of {}", start.as_str()),
            Bucket::Month => start.as_str()[..7].to_owned(),
        }
    }
}

fn year(d: &Day) -> i64 {
    d.as_str()[..4].parse().unwrap_or(1970)
}
fn month(d: &Day) -> i64 {
    d.as_str()[5..7].parse().unwrap_or(1)
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
pub fn days(d: &Day) -> i64 {
    let (y, m) = (year(d), month(d));
    let day: i64 = d.as_str()[8..10].parse().unwrap_or(1);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day `n` days after 1970-01-01 (`civil_from_days`).
pub fn from_days(n: i64) -> Day {
    let z = n + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Day::parse(&format!("{y:04}-{m:02}-{d:02}"))
        .unwrap_or_else(|| Day::parse("1970-01-01").expect("a day"))
}

/// One bar of a grouped bar chart, in the chart's own units (the page scales the view box).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Which series (0: opt-ins, 1: opt-outs, 2: asked to confirm).
    pub series: usize,
    pub bucket: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub value: u64,
}

/// A chart's geometry: `WIDTH` × `HEIGHT` with room for the axis.
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 220.0;
/// Left margin (the axis labels) and bottom margin (the bucket labels).
pub const LEFT: f64 = 48.0;
pub const BOTTOM: f64 = 28.0;
pub const TOP: f64 = 8.0;

/// A "nice" top of the value axis at or above `max` (1, 2 or 5 times a power of ten).
pub fn axis_top(max: u64) -> u64 {
    if max == 0 {
        return 1;
    }
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = p.checked_mul(m) {
                if v >= max {
                    return v;
                }
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return u64::MAX,
        }
    }
}

/// The bars of `series` (each a count per bucket; all of the same length) side by side in each
/// bucket, scaled to `top`.
pub fn bars(series: &[Vec<u64>], top: u64) -> Vec<Bar> {
    let buckets = series.first().map_or(0, Vec::len);
    if buckets == 0 {
        return Vec::new();
    }
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = plot_w / buckets as f64;
    let group = slot * 0.8;
    let w = group / series.len().max(1) as f64;
    let mut out = Vec::new();
    for (b, _) in (0..buckets).enumerate() {
        for (s, counts) in series.iter().enumerate() {
            let v = counts.get(b).copied().unwrap_or(0);
            let h = plot_h * (v as f64) / (top.max(1) as f64);
            out.push(Bar {
                series: s,
                bucket: b,
                x: LEFT + slot * b as f64 + slot * 0.1 + w * s as f64,
                y: TOP + plot_h - h,
                width: w,
                height: h,
                value: v,
            });
        }
    }
    out
}

/// The network an address (or an already truncated one, `198.51.100.0/24`) belongs to: an
/// IPv4 /24 or an IPv6 /48, as the evidence keeps it by default.
pub fn network(ip: &str) -> Option<String> {
    let bare = ip.split('/').next().unwrap_or(ip);
    match bare.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// Many one-clicks from one network in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// `2026-11-20T10:31`.
    pub minute: String,
    pub network: String,
    pub count: u64,
}

/// The one-clicks at least `threshold` times from one network in one minute; `clicks` are
/// (store timestamp, evidence address) pairs, one per one-click action. Largest first.
pub fn bursts(clicks: &[(String, String)], threshold: u64) -> Vec<Burst> {
    let mut counts: std::collections::HashMap<(String, String), u64> = Default::default();
    for (at, ip) in clicks {
        let (Some(minute), Some(net)) = (at.get(..16), network(ip)) else {
            continue;
        };
        *counts.entry((minute.to_owned(), net)).or_default() += 1;
    }
    let mut out: Vec<Burst> = counts
        .into_iter()
        .filter(|(_, n)| *n >= threshold)
        .map(|((minute, network), count)| Burst {
            minute,
            network,
            count,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.minute.cmp(&b.minute))
            .then_with(|| a.network.cmp(&b.network))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn days_round_trip_and_weeks_start_on_monday() {
        for s in [
            "1970-01-01",
            "2000-02-29",
            "2026-11-23",
            "2026-12-31",
            "2100-03-01",
        ] {
            assert_eq!(from_days(days(&day(s))), day(s), "{s}");
        }
        assert_eq!(days(&day("1970-01-02")), 1);
        // 2026-11-23 is a Monday; the 29th a Sunday.
        assert_eq!(Bucket::Week.start(&day("2026-11-29")), day("2026-11-23"));
        assert_eq!(Bucket::Week.start(&day("2026-11-23")), day("2026-11-23"));
        assert_eq!(Bucket::Week.start(&day("2026-11-22")), day("2026-11-16"));
        assert_eq!(Bucket::Month.start(&day("2026-11-29")), day("2026-11-01"));
        assert_eq!(
            Bucket::Month.range(&day("2026-11-15"), &day("2027-01-02"), 100),
            vec![day("2026-11-01"), day("2026-12-01"), day("2027-01-01")]
        );
        assert_eq!(
            Bucket::Day
                .range(&day("2026-11-30"), &day("2026-12-01"), 100)
                .len(),
            2
        );
        assert_eq!(
            Bucket::Day
                .range(&day("2026-01-01"), &day("2026-12-31"), 10)
                .len(),
            10
        );
    }

    #[test]
    fn bars_fill_the_plot_to_the_axis_top() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(7), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(200), 200);
        assert_eq!(axis_top(201), 500);
        let b = bars(&[vec![10, 0], vec![5, 20]], 20);
        assert_eq!(b.len(), 4);
        let tallest = b.iter().find(|x| x.value == 20).unwrap();
        assert!((tallest.y - TOP).abs() < 1e-9);
        assert!((tallest.height - (HEIGHT - BOTTOM - TOP)).abs() < 1e-9);
        let zero = b.iter().find(|x| x.value == 0).unwrap();
        assert_eq!(zero.height, 0.0);
        assert!(b
            .iter()
            .all(|x| x.x >= LEFT && x.x + x.width <= WIDTH + 1e-9));
    }

    #[test]
    fn a_burst_is_one_network_in_one_minute() {
        let mut clicks = Vec::new();
        for i in 0..12 {
            clicks.push((
                format!("2026-11-20T10:31:{i:02}.000000Z"),
                format!("198.51.100.{i}"),
            ));
        }
        clicks.push(("2026-11-20T10:32:00.000000Z".into(), "198.51.100.1".into()));
        clicks.push((
            "2026-11-20T10:31:00.000000Z".into(),
            "203.0.113.0/24".into(),
        ));
        clicks.push((
            "2026-11-20T10:31:00.000000Z".into(),
            "not an address".into(),
        ));
        let b = bursts(&clicks, 10);
        assert_eq!(
            b,
            vec![Burst {
                minute: "2026-11-20T10:31".into(),
                network: "198.51.100.0/24".into(),
                count: 12
            }]
        );
        assert_eq!(
            network("2001:db8:1:2::5").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(bursts(&clicks, 13), vec![]);
    }
}
