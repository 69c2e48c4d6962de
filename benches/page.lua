-- wrk script: GET a contact's page, a different link token each request.
--   wrk ... -s benches/page.lua http://127.0.0.1:PORT -- TOKENS_FILE THREADS PREFIX
-- PREFIX is /p/ (subscription center) or /u/ (unsubscribe page). Each thread walks the token
-- list round-robin from its own offset, so the threads read different contacts.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

local tokens, prefix, i

function init(args)
   tokens = common.load_tokens(args[1])
   local nthreads = tonumber(args[2]) or 1
   prefix = args[3] or "/p/"
   -- tid is set by setup() before init() runs.
   i = math.floor(tokens.n * (tid or 0) / nthreads)
end

function request()
   i = i % tokens.n + 1
   return wrk.format("GET", prefix .. tokens.get(i))
end

function done(summary, latency, requests)
   common.done(summary, latency, requests)
end
