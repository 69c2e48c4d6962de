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

-- This thread's tokens: every nthreads-th of the list from first + tid to last (computed, not
-- copied: see common.load_tokens).
local all, step, start, mine_n
local next_i = 0
distinct = 0 -- tokens sent for the first time (summed over threads in done)
reused = 0 -- repeats sent after running out (should stay 0)
exhausted = 0 -- 1 when this thread ran out of tokens
can_stop = 0

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "List-Unsubscribe=One-Click"

function init(args)
   all = common.load_tokens(args[1])
   step = tonumber(args[2]) or 1
   local first = tonumber(args[3]) or 1
   local last = math.min(tonumber(args[4]) or all.n, all.n)
   start = first + (tid or 0)
   mine_n = start <= last and math.floor((last - start) / step) + 1 or 0
   if mine_n == 0 then
      error("thread " .. (tid or 0) .. " has no tokens")
   end
end

-- This thread's j-th token (from 1).
local function mine(j)
   return all.get(start + (j - 1) * step)
end

function request()
   next_i = next_i + 1
   if next_i <= mine_n then
      distinct = distinct + 1
      return wrk.format("POST", "/u/" .. mine(next_i), headers, body)
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
   return wrk.format("POST", "/u/" .. mine((next_i - 1) % mine_n + 1), headers, body)
end

function done(summary, latency, requests)
   common.done(summary, latency, requests, { "distinct", "reused", "exhausted" })
end
