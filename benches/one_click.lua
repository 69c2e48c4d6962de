-- wrk script: RFC 8058 one-click unsubscribe, each request with the NEXT unused link token,
-- so every POST is a real unsubscribe that writes ledger records (not a no-op repeat).
--   wrk ... -s benches/one_click.lua http://127.0.0.1:PORT -- TOKENS_FILE THREADS [FIRST [LAST]]
-- Only tokens FIRST..LAST (1-based, inclusive; default all) are used, so two scenarios can
-- take disjoint slices of one file. Thread k (0-based) of n takes tokens FIRST+k,
-- FIRST+k+n, ... so threads never share a token. A thread that has used all of its tokens stops (wrk.thread:stop()) rather than send
-- no-op repeats. wrk still divides by the full -d duration, so a run that ran out of tokens
-- undercounts the rate: run.sh reports such a run as invalid (seed more contacts). Only when
-- stopping is impossible does it wrap around; `reused` then counts the repeats it sent.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
response = common.response

local mine = {}
local next_i = 0
distinct = 0 -- tokens sent for the first time (summed over threads in done)
reused = 0 -- repeats sent after running out (should stay 0)
exhausted = 0 -- 1 when this thread ran out of tokens
can_stop = 0

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "List-Unsubscribe=One-Click"

function init(args)
   local all = common.load_tokens(args[1])
   local nthreads = tonumber(args[2]) or 1
   local first = tonumber(args[3]) or 1
   local last = math.min(tonumber(args[4]) or #all, #all)
   local k = tid or 0
   for j = first + k, last, nthreads do
      mine[#mine + 1] = all[j]
   end
   if #mine == 0 then
      error("thread " .. k .. " has no tokens")
   end
end

function request()
   next_i = next_i + 1
   local t = mine[next_i]
   if t then
      distinct = distinct + 1
      return wrk.format("POST", "/u/" .. t, headers, body)
   end
   if exhausted == 0 then
      exhausted = 1
      if wrk.thread and wrk.thread.stop then
         can_stop = 1
         wrk.thread:stop()
      end
   end
   if can_stop == 1 then
      -- The loop ends after this turn; send a harmless read rather than a repeat.
      return wrk.format("GET", "/healthz")
   end
   reused = reused + 1
   t = mine[(next_i - 1) % #mine + 1]
   return wrk.format("POST", "/u/" .. t, headers, body)
end

function done(summary, latency, requests)
   common.done(summary, latency, requests, { "distinct", "reused", "exhausted" })
end
