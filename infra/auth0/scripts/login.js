function login(email, password, callback) {
  // Auth0 login script: checks an email and password against the user store and returns the
  // profile. An unknown email costs the same bcrypt compare as a wrong password (against a dummy
  // hash at the same cost) and gives the same error, so neither timing nor errors tell them apart.
  // @@SHARED_CODE@@
  settle("login", callback, async function () {
    var cfg = readConfiguration();
    var key = normalizeEmail(email);
    var row = key ? await findUser(cfg, key, true) : null;
    var usable = row !== null && passwordFits(password);
    var hash = usable ? row.password_hash : await dummyHash(cfg.bcryptCost);
    var matches = await bcrypt.compare(typeof password === "string" ? password : "", hash);
    if (!usable || !matches) {
      throw new WrongUsernameOrPasswordError(typeof email === "string" ? email : "", "Wrong email or password.");
    }
    return toProfile(row);
  });
}
