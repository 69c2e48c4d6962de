-- wrk script: GET the URL given on the command line (e.g. /healthz), counting non-2xx
-- responses like the other scripts. Used as the HTTP-stack baseline.
--   wrk ... -s benches/plain.lua http://127.0.0.1:PORT/healthz

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

function done(summary, latency, requests)
   common.done(summary, latency, requests)
end
