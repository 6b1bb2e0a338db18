#pragma once
// The order format of the demo's order flow, shared by order-api (functions/order_api.cpp, which checks an
// order before it enqueues it) and order-worker (functions/order_worker.cpp, which checks it again when it
// takes it from the queue, since anyone may send to the queue):
//
//   {"orderId": "o-1", "items": [{"sku": "tea", "qty": 2, "price": 3.5}, ...]}
//
//   orderId  1 to 64 characters of A-Z a-z 0-9 - _ (order-api makes one when the client gives none)
//   items    1 to 100 objects, each with sku (a non-empty string), qty (a whole number >= 1) and
//            price (a number >= 0); other members are kept and ignored.
#include <nlohmann/json.hpp>
#include <string>

namespace order {

constexpr std::size_t k_max_items = 100;
constexpr std::size_t k_max_id = 64;

inline bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > k_max_id) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

// Why `order` is not an order, or "" when it is one. `require_id`: orderId must be present (the worker);
// otherwise it may be absent (the API generates it) but must be valid when present.
inline std::string problem(const nlohmann::json& order, bool require_id) {
  if (!order.is_object()) return "the order must be a JSON object";
  if (auto id = order.find("orderId"); id != order.end()) {
    if (!id->is_string() || !valid_id(id->get<std::string>()))
      return "orderId must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'";
  } else if (require_id) {
    return "orderId is missing";
  }
  auto items = order.find("items");
  if (items == order.end()) return "items are missing";
  if (!items->is_array() || items->empty()) return "items must be a non-empty list";
  if (items->size() > k_max_items) return "at most 100 items per order";
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    std::string at = "items[" + std::to_string(i) + "]";
    if (!item.is_object()) return at + " must be an object";
    auto sku = item.find("sku");
    if (sku == item.end() || !sku->is_string() || sku->get<std::string>().empty())
      return at + ".sku must be a non-empty string";
    auto qty = item.find("qty");
    if (qty == item.end() || !qty->is_number_integer() || qty->get<long long>() < 1)
      return at + ".qty must be a whole number of at least 1";
    auto price = item.find("price");
    if (price == item.end() || !price->is_number() || price->get<double>() < 0)
      return at + ".price must be a number of at least 0";
  }
  return "";
}

// The order's total: sum of qty * price (call on a valid order only).
inline double total(const nlohmann::json& order) {
  double sum = 0;
  for (const auto& item : order["items"]) sum += item["qty"].get<double>() * item["price"].get<double>();
  return sum;
}

}  // namespace order
