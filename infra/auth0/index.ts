export * from "./applications";
export * from "./custom-database";
export * from "./post-login";
export * from "./names";
