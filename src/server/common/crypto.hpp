// Secrets in vigild: random tokens, SHA-256 digests of stored secrets, argon2id passwords.
#ifndef VIGIL_SERVER_COMMON_CRYPTO_HPP_
#define VIGIL_SERVER_COMMON_CRYPTO_HPP_

#include <string>
#include <string_view>

namespace vigil::server {

// `prefix` + 32 random bytes (getrandom) in unpadded base64url: 43 characters of secret.
std::string random_token(std::string_view prefix);

// Lower-case hex SHA-256. Tokens and keys are stored only as this digest: they are random and
// long, so a fast hash is enough (passwords use argon2id).
std::string sha256_hex(std::string_view data);

// argon2id with the OWASP parameters (t=2, m=19 MiB, p=1), encoded as "$argon2id$v=19$...".
std::string hash_password(std::string_view password);
// Constant-time check of `password` against an encoded argon2id hash.
bool verify_password(std::string_view password, const std::string& encoded) noexcept;

// Constant-time comparison (CSRF tokens).
bool equal_secret(std::string_view a, std::string_view b) noexcept;

}  // namespace vigil::server

#endif  // VIGIL_SERVER_COMMON_CRYPTO_HPP_
