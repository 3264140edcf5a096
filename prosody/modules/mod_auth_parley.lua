-- mod_auth_parley: Prosody's own account store (internal_hashed by default), plus short-lived login
-- tokens signed by Parley with a secret it shares with this server.
--
-- Why: Parley (the REST + SSE gateway; its docs/accounts.md tells the whole story) opens an XMPP session
-- for a user when a server-side application holding Parley's master secret asks it to. For accounts that
-- already exist on the server, Parley neither knows nor may change the password: instead it sends, as the
-- SASL PLAIN password, a JWT (HS256) with the claims
--     { "jid": "user@host", "exp": <unix seconds>, "jti": "<random id>" }
-- This provider accepts such a token for an existing account of this host, before `exp`, once (`jti`),
-- and gives every other password, and SCRAM, to the provider it wraps: users and their clients notice
-- nothing. The token format is ejabberd's `auth_method: jwt` (`jwt_jid_field: jid`), so Parley speaks
-- to both servers the same way.
--
-- Configuration (per host or global):
--   authentication = "parley"
--   parley_token_secret_file = "/etc/prosody/parley-token.secret"  -- 32+ bytes; or parley_token_secret = "…"
--   parley_token_inner = "internal_hashed"  -- the provider wrapped (default internal_hashed)
--   parley_token_max_ttl = 300              -- seconds: a token valid for longer than this is refused
-- Without a usable secret the module logs an error and only the wrapped provider answers (tokens refused).

local jwt = require "util.jwt";
local jid_prep = require "util.jid".prep;
local jid_join = require "util.jid".join;

local host = module.host;
local log = module._log;

local MIN_SECRET_BYTES = 32;

local function read_secret()
	local secret = module:get_option_string("parley_token_secret");
	local file = module:get_option_string("parley_token_secret_file");
	if not secret and file then
		local f, err = io.open(file, "r");
		if not f then
			log("error", "cannot read parley_token_secret_file: %s", err);
			return nil;
		end
		secret = f:read("*a");
		f:close();
		secret = secret and secret:match("^%s*(.-)%s*$");
	end
	if not secret then
		log("error", "no parley_token_secret(_file): Parley's login tokens are refused");
		return nil;
	end
	if #secret < MIN_SECRET_BYTES then
		log("error", "parley_token_secret is shorter than %d bytes: Parley's login tokens are refused", MIN_SECRET_BYTES);
		return nil;
	end
	return secret;
end

local secret = read_secret();
local max_ttl = module:get_option_number("parley_token_max_ttl", 300);
local inner_name = module:get_option_string("parley_token_inner", "internal_hashed");

-- The wrapped provider: loaded as a module of this host; it registers itself as an auth-provider item,
-- which usermanager ignores because `authentication` names this module.
module:depends("auth_" .. inner_name);
local inner;
for _, item in ipairs(module:get_host_items("auth-provider")) do
	if item.name == inner_name then inner = item; end
end
assert(inner, "mod_auth_parley: auth provider " .. inner_name .. " did not load");

-- Token ids seen, until they expire: a token opens one session, a copy of it none.
local used, next_sweep = {}, 0;

local function remember_jti(jti, exp, now)
	if now >= next_sweep then
		for id, until_ in pairs(used) do
			if until_ <= now then used[id] = nil; end
		end
		next_sweep = now + 30;
	end
	if used[jti] then return false; end
	used[jti] = exp;
	return true;
end

-- true when `password` is a valid login token for `username`; nil plus a reason otherwise.
local function test_token(username, password)
	if not secret or not password:match("^[%w%-_]+%.[%w%-_]+%.[%w%-_]+$") then return nil, "not a token"; end
	local ok, claims = jwt.verify(secret, password);
	if not ok or type(claims) ~= "table" then return nil, "bad signature"; end
	local now = os.time();
	local exp, jti = tonumber(claims.exp), claims.jti;
	if not exp or exp <= now then return nil, "expired"; end
	if exp > now + max_ttl then return nil, "valid for too long"; end
	if type(claims.jid) ~= "string" or jid_prep(claims.jid) ~= jid_join(username, host) then
		return nil, "for another account";
	end
	if type(jti) ~= "string" or #jti < 8 then return nil, "no token id"; end
	-- A token never creates an account: Parley provisions accounts through XEP-0133 first.
	if not inner.user_exists(username) then return nil, "no such account"; end
	if not remember_jti(jti, exp, now) then return nil, "already used"; end
	return true;
end

local provider = {};

function provider.test_password(username, password)
	local ok, why = test_token(username, password);
	if ok then
		log("debug", "login token accepted for %s", username);
		return true;
	end
	if why ~= "not a token" then log("debug", "login token refused for %s: %s", username, why); end
	-- Whatever the token said, the user's own password still counts (it may look like a token).
	return inner.test_password(username, password);
end

function provider.set_password(username, password) return inner.set_password(username, password); end
function provider.user_exists(username) return inner.user_exists(username); end
function provider.users() return inner.users(); end
function provider.create_user(username, password) return inner.create_user(username, password); end
function provider.delete_user(username) return inner.delete_user(username); end
function provider.get_password(username)
	if inner.get_password then return inner.get_password(username); end
	return nil, "method not implemented";
end

-- The wrapped provider's SASL handler: its PLAIN check asks usermanager.test_password, which is ours
-- (this provider is the host's); SCRAM reads the stored hashes as before, so tokens travel only as PLAIN.
function provider.get_sasl_handler(session)
	return inner.get_sasl_handler(session);
end

module:provides("auth", provider);
