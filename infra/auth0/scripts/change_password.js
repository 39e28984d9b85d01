function changePassword(email, newPassword, callback) {
  // Auth0 change_password script: stores a bcrypt hash of the new password. Calls back true when
  // the password was changed, false when no user has this email.
  // @@SHARED_CODE@@
  settle("change_password", callback, async function () {
    var cfg = readConfiguration();
    var key = requireEmail("change_password", email);
    checkNewPassword("change_password", newPassword);
    var hash = await bcrypt.hash(newPassword, cfg.bcryptCost);
    var result = await runQuery(cfg, "UPDATE " + usersTable(cfg) + " SET password_hash = $2 WHERE lower(email) = lower($1)", [key, hash]);
    return result.rowCount > 0;
  });
}
