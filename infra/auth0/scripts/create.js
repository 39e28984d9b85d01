function create(user, callback) {
  // Auth0 create script: stores a new user with a bcrypt hash of the password. A duplicate email
  // (case-insensitive) is found by the unique index, so two concurrent sign-ups cannot both win.
  // @@SHARED_CODE@@
  settle("create", callback, async function () {
    var cfg = readConfiguration();
    var u = user !== null && typeof user === "object" ? user : {};
    var email = normalizeEmail(u.email);
    if (!email || email.length < 3 || email.length > 320 || !EMAIL.test(email)) {
      throw invalid("invalid_email", "create: the email is missing or not a valid email address");
    }
    checkNewPassword("create", u.password);
    var nickname = trimmedText(u.nickname) || trimmedText(u.username);
    if (nickname && nickname.length > 255) {
      throw invalid("invalid_nickname", "create: the nickname is longer than 255 characters");
    }
    var appMetadata = metadataJson("app_metadata", u.app_metadata);
    var userMetadata = metadataJson("user_metadata", u.user_metadata);
    var hash = await bcrypt.hash(u.password, cfg.bcryptCost);
    try {
      await runQuery(
        cfg,
        "INSERT INTO " + usersTable(cfg) +
          " (email, password_hash, nickname, email_verified, app_metadata, user_metadata)" +
          " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)",
        [email, hash, nickname, u.email_verified === true, appMetadata, userMetadata],
      );
    } catch (err) {
      if (err && err.code === "23505") {
        throw new ValidationError("user_exists", "A user with this email already exists.");
      }
      throw err;
    }
  });
}
