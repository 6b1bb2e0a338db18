// The Node twin of functions/noop.c for the apigw_rps benchmark: returns {} (payload 2.0 without
// statusCode: API Gateway answers 200 with the JSON "{}" as body, as it does for noop).
"use strict";

module.exports.noop = async () => ({});
