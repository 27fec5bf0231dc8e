#pragma once
// The CLI's main job: users, messages, keys, audit and metrics through the
// core services. Each returns the process exit code.

#include <optional>
#include <string>

#include "strata/host.hpp"

namespace strata::cli {

/// `strata user add NAME --email E`; the password comes from stdin or a prompt.
int user_add(const Host& host, const std::string& name, const std::string& email);
/// `strata user show NAME`.
int user_show(const Host& host, const std::string& name);
/// `strata send --from A --to B [--ttl S] TEXT`.
int send(const Host& host, const std::string& from, const std::string& to, std::optional<long> ttl_s,
         std::string text);
/// `strata inbox NAME [--limit N]`.
int inbox(const Host& host, const std::string& name, std::size_t limit);
/// `strata read ID --as NAME`.
int read(const Host& host, const std::string& id, const std::string& as);
/// `strata audit tail [--limit N]`.
int audit_tail(const Host& host, std::size_t limit);
/// `strata metrics`: totals of every stored metric record, Prometheus text format.
int metrics(const Host& host);
/// `strata keys rotate USER`.
int keys_rotate(const Host& host, const std::string& name);
/// `strata keys rewrap [--batch N]`.
int keys_rewrap(const Host& host, std::size_t batch);
/// `strata adopt messages --accept-unauthenticated [--batch N]`: the seed's messages re-sealed in Strata's envelope.
int adopt_messages(const Host& host, bool accept_unauthenticated, std::size_t batch);
/// `strata demo`.
int demo(const Host& host);

}  // namespace strata::cli
