// What Auth0's sandboxes provide to the uploaded JavaScript, for test/uploaded/typecheck.test.ts.
// Custom-database scripts: `configuration` (the connection's configuration values) and the error
// classes a script passes to its callback. Actions: CommonJS `exports`/`module`/`require` (Node's).
declare const configuration: Record<string, string | undefined>;
declare class WrongUsernameOrPasswordError extends Error {
    constructor(email?: string, message?: string);
}
declare class ValidationError extends Error {
    constructor(code?: string, message?: string);
}
declare class UnauthorizedError extends Error {
    constructor(message?: string);
}

// `require("pg@8.11.3")`: Auth0's sandbox resolves a module at the version the name gives (the
// stack's customDb.modules); typed as the project's own copy of the package.
declare module "pg@*" {
    import pg = require("pg");
    export = pg;
}
declare module "bcrypt@*" {
    import bcrypt = require("bcrypt");
    export = bcrypt;
}
