-- wrk script: the same request to the URL given on the command line, counting non-2xx
-- responses like the other scripts. Used for /healthz and the ceiling server's paths.
--   wrk ... -s benches/plain.lua http://127.0.0.1:PORT/healthz
--   wrk ... -s benches/plain.lua http://127.0.0.1:PORT/write -- POST 'List-Unsubscribe=One-Click'
-- With a method (and body) after --, a POST carries the one-click's form body and headers.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

function init(args)
   if args[1] then
      wrk.method = args[1]
   end
   if args[2] then
      wrk.body = args[2]
      wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   end
end

function done(summary, latency, requests)
   common.done(summary, latency, requests)
end
