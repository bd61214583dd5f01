/** Types for gitleaksToml.js: the text `.gitleaks.toml` must hold. */
export declare function gitleaksToml(): string;
