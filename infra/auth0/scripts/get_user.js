function getByEmail(email, callback) {
  // Auth0 get_user script: the profile of an email (case-insensitive), without authenticating.
  // An unknown email calls back with no error and no profile.
  // @@SHARED_CODE@@
  settle("get_user", callback, async function () {
    var cfg = readConfiguration();
    var key = requireEmail("get_user", email);
    var row = await findUser(cfg, key, false);
    return row ? toProfile(row) : undefined;
  });
}
