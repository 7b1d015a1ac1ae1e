#pragma once
// The API helpers live in controlplane/client (the agent uses them too);
// the controllers name them unqualified.

#include "controlplane/client/api_util.h"

namespace berth::controlplane::controllers {

using client::BeingDeleted;
using client::Has;
using client::HasStatusCause;
using client::HttpError;
using client::ListAll;
using client::StatusMessage;
using client::StringAt;
using client::StringsAt;
using client::ValueAt;

}  // namespace berth::controlplane::controllers
