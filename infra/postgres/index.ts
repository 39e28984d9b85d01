export * from "./database";
export * from "./foreign-data";
export * from "./privileges";
export * from "./migrations";
export * from "./migrate";
export * from "./auth0-fdw";
export * from "./adopt-users";
