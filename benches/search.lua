-- wrk script: GET /admin/contacts?q=… as a signed-in staff user, a different query each request:
-- the start of a name (one word or two), of an email address, or a bench address whole.
--   wrk ... -s benches/search.lua http://127.0.0.1:PORT -- COOKIE CONTACTS
-- COOKIE is the console session's "name=value"; CONTACTS the number of seeded contacts.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

local queries, i = {}, 0

function init(args)
   wrk.headers["Cookie"] = args[1]
   local n = tonumber(args[2]) or 1000
   local words = { "hol", "smith", "zoe", "mul", "garc", "ngu", "o%27b", "lena+m", "amir+kh",
      "sof", "bjorn", "ostergaard", "lo", "k", "chl", "dick", "hugo+chen", "ravi", "priya+s" }
   for _, w in ipairs(words) do queries[#queries + 1] = w end
   math.randomseed(42 + (tid or 0))
   for _ = 1, 200 do
      local id = math.random(1, n)
      queries[#queries + 1] = "bench" .. id .. "%40example.com"
      queries[#queries + 1] = "bench" .. math.floor(id / 100)
   end
   i = (tid or 0) * 7
end

function request()
   i = i % #queries + 1
   return wrk.format("GET", "/admin/contacts?q=" .. queries[i])
end

function done(summary, latency, requests)
   common.done(summary, latency, requests)
end
