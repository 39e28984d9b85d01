function login(email, password, callback) {
  // Auth0 login script: checks an email and password against the user store and returns the
  // profile. Every failed login does the same bcrypt work, one compare at the cost ceiling, whether
  // the email is unknown or known and whatever its stored hash's cost (payFailedLogin in shared.js),
  // and gives the same error, so neither timing nor errors tell them apart. A successful login
  // stores the password again at the configured cost when its hash has another one.
  // @@SHARED_CODE@@
  settle("login", callback, async function () {
    var cfg = readConfiguration();
    var ceiling = await costCeiling(cfg);
    var key = normalizeEmail(email);
    var row = key ? await findUser(cfg, key, true) : null;
    var given = typeof password === "string" ? password : "";
    var spent = row !== null && passwordFits(password) ? hashCost(row.password_hash) : null;
    if (spent !== null && (await bcrypt.compare(given, row.password_hash))) {
      await rehashAfterLogin(cfg, row, given, spent);
      return toProfile(row);
    }
    await payFailedLogin(given, spent, ceiling);
    throw new WrongUsernameOrPasswordError(typeof email === "string" ? email : "", "Wrong email or password.");
  });
}
