export * from "./applications";
export * from "./custom-database";
export * from "./post-login";
export * from "./management-token";
export * from "./names";
