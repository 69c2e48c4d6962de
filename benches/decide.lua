-- wrk script: POST /api/v1/decide for a different seeded contact each request.
--   wrk ... -s benches/decide.lua http://127.0.0.1:PORT -- ADDRESSES_FILE THREADS KEY
-- ADDRESSES_FILE holds one email address a line; KEY is an API key with the decide scope.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

local addresses, i

function init(args)
   addresses = common.load_tokens(args[1])
   local nthreads = tonumber(args[2]) or 1
   i = math.floor(addresses.n * (tid or 0) / nthreads)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. args[3]
end

function request()
   i = i % addresses.n + 1
   return wrk.format(nil, "/api/v1/decide", nil,
      '{"email":"' .. addresses.get(i) .. '","purpose":"commercial","topic":"newsletter","channel":"email"}')
end

function done(summary, latency, requests)
   common.done(summary, latency, requests)
end
