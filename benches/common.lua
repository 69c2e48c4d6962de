-- Shared by the wrk scripts of benches/run.sh (loaded with dofile from each script).
--
-- wrk runs one Lua state for the main thread (setup, done) and one per worker thread
-- (init, request, response). Counters live in the worker states as globals; done() reads
-- them back through the thread objects that setup() kept.
--
-- Every script ends by printing one line that run.sh parses:
--   BENCH_RESULT requests=N duration_us=N rps=X p50_ms=X p90_ms=X p99_ms=X max_ms=X
--                non2xx=N first_bad_status=N connect_err=N read_err=N write_err=N
--                timeout_err=N [extra=N ...]

local common = {}

-- Main state: the worker threads, in creation order.
local threads = {}

-- setup(thread) runs in the main state once per worker, before that worker's init().
function common.setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Reads a token file (one token a line, blank lines and spaces ignored) into a list with
-- `n` (how many) and `get(i)` (the i-th, from 1). The file stays one Lua string, and where
-- each token starts and ends is kept in C arrays (LuaJIT's FFI): a million tokens kept as a
-- million Lua strings made wrk's garbage collector stop a thread for up to 200 ms at a time,
-- seen as the slowest requests of every scenario that loads a million tokens, even against the
-- ceiling's no-op server (a list of 10,000: 12 ms at most).
local ffi = require("ffi")

function common.load_tokens(path)
   if path == nil or path == "" then
      error("no tokens file given (pass it after --)")
   end
   local f = assert(io.open(path, "rb"))
   local blob = f:read("*a")
   f:close()
   local n = 0
   for _ in blob:gmatch("%S+") do
      n = n + 1
   end
   if n == 0 then
      error("no tokens in " .. path)
   end
   local from = ffi.new("int32_t[?]", n)
   local to = ffi.new("int32_t[?]", n)
   local k = 0
   for a, b in blob:gmatch("()%S+()") do
      from[k], to[k] = a, b - 1
      k = k + 1
   end
   return {
      n = n,
      get = function(i)
         return blob:sub(from[i - 1], to[i - 1])
      end,
   }
end

-- Worker state: count every response that is not 2xx (wrk itself only counts >= 400).
non2xx = 0
first_bad_status = 0

function common.response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad_status == 0 then
         first_bad_status = status
      end
   end
end

-- Main state: the summary line. `extra` names worker globals to sum and print as well.
function common.done(summary, latency, requests, extra)
   local bad, first_bad = 0, 0
   local sums = {}
   for _, name in ipairs(extra or {}) do
      sums[name] = 0
   end
   for _, t in ipairs(threads) do
      bad = bad + (t:get("non2xx") or 0)
      local fb = t:get("first_bad_status") or 0
      if first_bad == 0 and fb ~= 0 then
         first_bad = fb
      end
      for _, name in ipairs(extra or {}) do
         sums[name] = sums[name] + (t:get(name) or 0)
      end
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local line = string.format(
      "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
         .. " max_ms=%.3f non2xx=%d first_bad_status=%d connect_err=%d read_err=%d"
         .. " write_err=%d timeout_err=%d",
      summary.requests, summary.duration, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      bad, first_bad, e.connect, e.read, e.write, e.timeout)
   for _, name in ipairs(extra or {}) do
      line = line .. string.format(" %s=%d", name, sums[name])
   end
   io.write(line, "\n")
end

return common
