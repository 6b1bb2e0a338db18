// JWT authorizers of HTTP APIs: RS256 tokens checked against a local JWKS file.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
// ("Validating the JWT": kid and signature against the issuer's jwks_uri, RS256 only, iss, aud or
// client_id, exp, nbf, iat, scope or scp against the route's authorization scopes.)
// Stratus fetches nothing from the network: an issuer of the form file:///DIR has its keys in
// /DIR/.well-known/jwks.json (read at each request); any other issuer has no keys (every token is refused).
#include <fstream>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/base64.hpp"
#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string s(in);
  for (auto& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (s.size() % 4) s += '=';
  return base64_decode(s);
}

std::optional<json> jwks_of(const std::string& issuer) {
  constexpr std::string_view kFile = "file://";
  if (!issuer.starts_with(kFile)) return std::nullopt;
  std::string dir = issuer.substr(kFile.size());
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  std::ifstream in(dir + "/.well-known/jwks.json");
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  json doc = json::parse(buf.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

bool verify_rs256(const json& jwk, std::string_view signed_part, const std::string& signature) {
  auto n = base64url_decode(str(jwk, "n"));
  auto e = base64url_decode(str(jwk, "e"));
  if (!n || !e || n->empty() || e->empty()) return false;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* kctx = nullptr;
  EVP_PKEY* pkey = nullptr;
  EVP_MD_CTX* md = nullptr;
  bool ok = false;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
      (kctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) && EVP_PKEY_fromdata_init(kctx) == 1 &&
      EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 && (md = EVP_MD_CTX_new()) &&
      EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1) {
    ok = EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
  }
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(kctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return ok;
}

std::vector<std::string> scopes_of(const json& claims) {
  std::vector<std::string> out;
  for (const char* key : {"scope", "scp"}) {
    auto it = claims.find(key);
    if (it == claims.end()) continue;
    if (it->is_string()) {
      std::istringstream words(it->get<std::string>());
      for (std::string w; words >> w;) out.push_back(w);
    } else if (it->is_array()) {
      for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

JwtVerdict verify_jwt(std::string_view token, const std::string& issuer, const std::vector<std::string>& audience,
                      const std::vector<std::string>& required_scopes, std::int64_t now_s) {
  JwtVerdict v;
  auto invalid = [&v](std::string why) {
    v.kind = AuthResult::Kind::unauthorized;
    v.error = std::move(why);
    return v;
  };
  if (token.starts_with("Bearer ") || token.starts_with("bearer ")) token.remove_prefix(7);
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return invalid("the token is not a JWT");
  auto header_text = base64url_decode(token.substr(0, dot1));
  auto claims_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !claims_text || !signature) return invalid("the token is not a JWT");
  json header = json::parse(*header_text, nullptr, false);
  json claims = json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return invalid("the token is not a JWT");
  if (str(header, "alg") != "RS256") return invalid("the token's algorithm is not RS256");
  auto jwks = jwks_of(issuer);
  if (!jwks) return invalid("no signing keys for issuer " + issuer);
  const json* key = nullptr;
  const json keys = jwks->value("keys", json::array());  // `key` points into it below
  for (const auto& k : keys)
    if (k.is_object() && str(k, "kid") == str(header, "kid") && str(k, "kty") == "RSA") key = &k;
  if (!key) return invalid("no signing key matches the token's kid");
  if (!verify_rs256(*key, token.substr(0, dot2), *signature)) return invalid("signature verification failed");
  if (str(claims, "iss") != issuer) return invalid("the token's issuer does not match");
  bool aud_ok = false;
  auto aud_matches = [&](const std::string& a) {
    for (const auto& want : audience) aud_ok = aud_ok || want == a;
  };
  if (auto a = claims.find("aud"); a != claims.end()) {
    if (a->is_string()) aud_matches(a->get<std::string>());
    if (a->is_array())
      for (const auto& x : *a)
        if (x.is_string()) aud_matches(x.get<std::string>());
  } else {
    aud_matches(str(claims, "client_id"));
  }
  if (!aud_ok) return invalid("the token does not have a valid audience");
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return invalid("the token has no expiration");
  if (exp->get<double>() <= static_cast<double>(now_s)) return invalid("the token has expired");
  for (const char* key_name : {"nbf", "iat"})
    if (auto t = claims.find(key_name); t != claims.end() && t->is_number() && t->get<double>() > static_cast<double>(now_s) + 0)
      return invalid(std::string("the token's ") + key_name + " is in the future");
  v.scopes = scopes_of(claims);
  if (!required_scopes.empty()) {
    bool any = false;
    for (const auto& s : v.scopes)
      for (const auto& r : required_scopes) any = any || s == r;
    if (!any) {
      v.kind = AuthResult::Kind::forbidden;
      v.error = "the token does not have a required scope";
      return v;
    }
  }
  // requestContext.authorizer.jwt.claims: the claims' values as strings.
  json out = json::object();
  for (const auto& [k, val] : claims.items()) out[k] = val.is_string() ? val.get<std::string>() : val.dump();
  v.claims = std::move(out);
  v.kind = AuthResult::Kind::allow;
  return v;
}

}  // namespace stratus::services::apigateway
