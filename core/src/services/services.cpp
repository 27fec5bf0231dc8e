// Services: wiring the services to a Host's role instances.

#include "strata/services.hpp"

#include "missing_cipher.hpp"

namespace strata {

sdk::Result<std::unique_ptr<Services>> Services::open(const Host& host, ServicesOptions options) {
  ServiceContext c;
  c.storage = host.storage();
  if (!c.storage)
    return sdk::fail(sdk::ErrorCode::invalid_argument, "the services need a [storage] in the config; this one has none");
  c.cipher = host.cipher();
  if (!c.cipher) c.cipher = std::make_shared<detail::MissingCipher>();
  c.cache = host.cache("default");
  c.sessions = host.cache("session") ? host.cache("session") : c.cache;
  c.metrics = host.metrics();
  c.clock = host.clock();
  c.log = host.log();
  c.settings = host.settings();
  c.audit = std::make_shared<AuditLog>(host.audit(), c.settings.audit, c.clock, c.metrics, c.log);
  return std::unique_ptr<Services>(new Services(host, std::move(c), options));
}

Services::Services(const Host& host, ServiceContext context, ServicesOptions options)
    : host_(host),
      context_(std::move(context)),
      sessions_(context_),
      users_(context_, &sessions_),
      keys_(context_, users_),
      messages_(context_, users_),
      maintenance_(std::make_unique<Maintenance>(context_, host.audit(), options.background)) {}

Services::~Services() {
  // Audit first: writing the last events moves strata_audit_events_total,
  // which the maintenance's final metrics flush then stores (a CLI process
  // once ended with those counts never written).
  context_.audit->flush();
  maintenance_.reset();
}

}  // namespace strata
