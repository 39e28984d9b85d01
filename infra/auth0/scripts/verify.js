function verify(email, callback) {
  // Auth0 verify script: marks the email as verified. Calls back true when the user exists (and
  // is now verified), false when no user has this email.
  // @@SHARED_CODE@@
  settle("verify", callback, async function () {
    var cfg = readConfiguration();
    var key = requireEmail("verify", email);
    var result = await runQuery(cfg, "UPDATE " + usersTable(cfg) + " SET email_verified = true WHERE lower(email) = lower($1)", [key]);
    return result.rowCount > 0;
  });
}
