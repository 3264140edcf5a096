-- What one write to Prosody 0.12's `archive_cleanup` map costs, by the number of users already in it.
--
-- mod_mam, with `archive_expires_after` set and an archive store that cannot delete by wildcard (memory,
-- internal), calls schedule_cleanup(user) after each archived message; for a user not among the last
-- `archive_cleanup_date_cache_size` (1,000) it does cleanup_map:set(<today>, user, true). The internal store has
-- no map type, so core/storagemanager.lua's map shim loads the whole keyval entry for today (every user
-- recorded today), adds one key, serializes it all and util.datamanager rewrites the file. This repeats
-- exactly that with Prosody's own libraries, in a bare Lua (inside Prosody, with thousands of sessions on its
-- heap, the same work measured 5-7x more: bench/JOURNAL.md, "Who talks to whom").
--
--   lua5.4 bench/tools/mam-cleanup-map.lua
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local serialize = require "util.serialization".serialize
local envload = require "util.envload".envload

local file = os.tmpname()
for _, n in ipairs({ 100, 500, 1000, 2000, 5000, 10000 }) do
	local day = {}
	for i = 1, n do day[("s1x%05d"):format(i)] = true end
	local text = "return " .. serialize(day) .. ";\n"
	local reps = 50
	local t0 = os.clock()
	for r = 1, reps do
		local current = assert(envload(text, "@map", {}))() -- util.datamanager.load
		current["new" .. r] = true -- map_shim_mt.set
		local f = assert(io.open(file .. "~", "w")) -- util.datamanager.store → atomic_store
		f:write("return " .. serialize(current) .. ";\n")
		f:close()
		os.rename(file .. "~", file)
	end
	print(("%6d users in today's map: %.2f ms of CPU per new user (file %d KB)"):format(
		n, (os.clock() - t0) * 1000 / reps, #text // 1024))
end
os.remove(file)
