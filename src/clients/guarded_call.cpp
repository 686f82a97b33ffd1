#include "clients/guarded_call.h"

namespace outpost::clients {

resilience::CallResult breakerResult(CallClass call_class, bool timed_out) {
  if (call_class != CallClass::kRetriable) return resilience::CallResult::kSuccess;
  return timed_out ? resilience::CallResult::kTimeout : resilience::CallResult::kFailure;
}

}  // namespace outpost::clients
