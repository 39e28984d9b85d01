function remove(id, callback) {
  // Auth0 delete script: deletes the user with this id (the user_id the scripts returned; Auth0
  // passes it without the "auth0|" prefix, which is accepted too). Idempotent: an id that names
  // no row, including one that is not a uuid and so cannot be ours, is a no-op.
  // @@SHARED_CODE@@
  settle("delete", callback, async function () {
    var cfg = readConfiguration();
    if (typeof id !== "string") throw failure("delete: the user id is missing or not a string");
    var raw = id.trim();
    if (raw.indexOf("auth0|") === 0) raw = raw.slice("auth0|".length);
    if (!UUID.test(raw)) return undefined;
    await runQuery(cfg, "DELETE FROM " + usersTable(cfg) + " WHERE id = $1::uuid", [raw]);
    return undefined;
  });
}
