#pragma once
// What API clients (controllers, scheduler, agent) share for talking to the API: reading fields of
// objects and turning answers they did not want into Errors that name the
// request, the HTTP code and the server's message.

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::controlplane::client {

// obj[a][b]...; null when a step is missing, null or not an object.
const boost::json::value* ValueAt(const boost::json::object& obj,
                                  std::initializer_list<std::string_view> path);
// obj[a][b]... as a string; "" when missing or not a string.
std::string StringAt(const boost::json::object& obj, std::initializer_list<std::string_view> path);
// obj[a][b]... as a list of strings (non-strings skipped); empty when missing.
std::vector<std::string> StringsAt(const boost::json::object& obj,
                                   std::initializer_list<std::string_view> path);
// obj[a][b]... is present (and not null).
bool Has(const boost::json::object& obj, std::initializer_list<std::string_view> path);
// metadata.deletionTimestamp is set.
bool BeingDeleted(const boost::json::object& obj);

// "<method> <target>: HTTP <code> <reason>: <message>", with the Errc the
// code stands for (404 kNotFound, 409 kAborted, 403 kPermissionDenied...).
Error HttpError(std::string_view method, const std::string& target, const ApiResponse& response);
// The message of the Status a failed request answered ("pods \"x\" is
// forbidden: ..."), as upstream's events quote it; else HttpError's text.
std::string StatusMessage(const ApiResponse& response, std::string_view method,
                          const std::string& target);
// The answer's Status lists a cause of this type (details.causes[].reason),
// e.g. "NamespaceTerminating".
bool HasStatusCause(const ApiResponse& response, std::string_view cause);

// Every object of a collection, listed in pages.
Result<std::vector<boost::json::object>> ListAll(ApiClient& api, const std::string& collection);

}  // namespace berth::controlplane::client
