// Services: wiring the services to a Host's role instances.

#include "strata/services.hpp"

namespace strata {

sdk::Result<std::unique_ptr<Services>> Services::open(const Host& host, ServicesOptions options) {
  ServiceContext c;
  c.storage = host.storage();
  c.cipher = host.cipher();
  if (!c.storage || !c.cipher)
    return sdk::fail(sdk::ErrorCode::invalid_argument,
                     "the services need a [storage] and a [cipher] in the config; this one lacks " +
                         std::string(!c.storage ? "[storage]" : "[cipher]"));
  c.cache = host.cache("default");
  c.sessions = host.cache("session") ? host.cache("session") : c.cache;
  c.metrics = host.metrics();
  c.clock = host.clock();
  c.log = host.log();
  c.settings = host.settings();
  c.audit = std::make_shared<AuditLog>(host.audit(), c.settings.audit, c.clock, c.metrics, c.log);
  return std::unique_ptr<Services>(new Services(std::move(c), host.audit(), options));
}

Services::Services(ServiceContext context, std::shared_ptr<sdk::Audit> sink, ServicesOptions options)
    : context_(std::move(context)),
      sessions_(context_),
      users_(context_, &sessions_),
      keys_(context_, users_),
      messages_(context_, users_),
      maintenance_(std::make_unique<Maintenance>(context_, std::move(sink), options.background)) {}

Services::~Services() {
  maintenance_.reset();
  context_.audit->flush();
}

}  // namespace strata
