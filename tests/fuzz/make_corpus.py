#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/fuzz_targets.h says what each
input is). Run from anywhere; it rewrites tests/fuzz/corpus/<target>/seed_*. An input is:

request_parser: one byte (the piece size in the low 6 bits; bit 7: the node's own limits
  rather than the fuzzer's small ones), then the bytes of the connection (the requests of
  issue 13, byte for byte);
json_body: a request body;
query_string: one byte (the page: 0 orders, 1 outbox, 2 reviews), then the query string;
header_values: a header value;
config: the file's text, a NUL, then NAME=value lines of the environment;
sns_answer, sqs_answer, product_answer, delivery_answer: the HTTP status (two bytes,
  big-endian), one byte that picks the call (SNS/SQS: messages - 1; product: how many
  products; delivery: 0 initiate, 1 status, 2 cancel), then the body.
"""
import gzip
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "till-secret-123456"
ORDER = b'{"customerId":"c","items":[{"productId":"p","quantity":1}]}'


def deep(depth):
    return (b'{"customerId":"c","items":[{"productId":"p","quantity":1}],"metadata":{"a":'
            + b"[" * depth + b"]" * depth + b"}}")


def large(size):
    return (b'{"customerId":"c","items":[{"productId":"p","quantity":1}],"metadata":{"a":"'
            + b"x" * size + b'"}}')


def post(body, extra=b"", token=TOKEN.encode(), path=b"/v1/orders"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: till\r\nAuthorization: Bearer " + token
            + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n" + extra + b"\r\n" + body)


def chunked(body, size=4096):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def post_chunked(body):
    return (b"POST /v1/orders HTTP/1.1\r\nHost: till\r\nAuthorization: Bearer " + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body))


def get(path, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"


NODE_LIMITS = 0x80
REQUESTS = {
    "valid_order": (NODE_LIMITS | 63, post(ORDER)),
    "valid_order_bytewise": (NODE_LIMITS | 0, post(ORDER)),
    "deep_metadata_2500": (NODE_LIMITS | 63, post(deep(2500))),
    "deep_metadata_10000": (NODE_LIMITS | 63, post(deep(10000))),
    "deep_metadata_chunked": (NODE_LIMITS | 63, post_chunked(deep(20000))),
    "deep_metadata_gzip": (NODE_LIMITS | 63,
                           post(gzip.compress(deep(300000), 9, mtime=0), b"Content-Encoding: gzip\r\n")),
    "chunked_100k_order": (NODE_LIMITS | 63, post_chunked(large(100000))),
    "gzip_bomb_1mb": (NODE_LIMITS | 63,
                      post(gzip.compress(large(1000000), 9, mtime=0), b"Content-Encoding: gzip\r\n")),
    "range_on_201": (NODE_LIMITS | 63, post(ORDER, b"Range: bytes=99999-\r\n")),
    "range_on_401": (NODE_LIMITS | 63, get(b"/v1/orders", b"Range: bytes=0-3\r\n")),
    "range_on_404": (NODE_LIMITS | 63, get(b"/v1/orders/nope", b"Range: bytes=5000-\r\n")),
    "metrics_1300_ranges": (NODE_LIMITS | 63,
                            get(b"/metrics", b"Range: bytes=0-" + b",0-" * 1300 + b"\r\n")),
    "desync_401_then_get": (NODE_LIMITS | 63,
                            post(large(20000), token=b"not-it") + get(b"/livez")),
    "early_413_then_get": (NODE_LIMITS | 63,
                           b"POST /v1/orders HTTP/1.1\r\nContent-Length: 70000\r\n\r\n"
                           + get(b"/livez")),
    "pipelined_three": (NODE_LIMITS | 63, get(b"/livez") * 2 + post(ORDER)),
    "trailing_nul": (NODE_LIMITS | 63, post(ORDER + b"\0 this is not JSON")),
    "cancel_trailing_nul": (NODE_LIMITS | 63,
                            post(b'{"reason":"x"}\0',
                                 path=b"/v1/orders/ORD-01M916T5WX8CJMZ3RGHPZ4CRCM/cancel")),
    "post_without_length": (NODE_LIMITS | 63,
                            b"POST /v1/orders HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Type: application/json\r\n\r\n" + ORDER),
    "bearer_percent": (NODE_LIMITS | 63,
                       post(ORDER).replace(b"Bearer ", b"Bearer%20")),
    "bearer_nul": (NODE_LIMITS | 63,
                   post(ORDER).replace(TOKEN.encode(), TOKEN.encode() + b"\0junk")),
    "bearer_lower_case": (NODE_LIMITS | 63, post(ORDER).replace(b"Bearer", b"bearer")),
    "content_type_upper_case": (NODE_LIMITS | 63,
                                post(ORDER).replace(b"application/json", b"APPLICATION/JSON")),
    "expect_continue": (NODE_LIMITS | 7, post(ORDER, b"Expect: 100-continue\r\n")),
    "length_and_chunked": (5, b"POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "chunked_after_gzip": (5, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    "two_lengths": (5, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
    "folded_header": (5, b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"),
    "chunk_extensions_trailers": (3, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n" + get(b"/")),
    "bare_line_feeds": (2, b"GET / HTTP/1.1\nHost: x\n\nGET /livez HTTP/1.0\n\n"),
    "http10_keep_alive": (9, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
    "percent_in_values": (9, b"GET / HTTP/1.1\r\nX-A: 100%%25%\r\n\r\n"),
}

JSON_BODIES = {
    "valid_order": ORDER,
    "full_order": b'{"customerId":"cust-1","items":[{"productId":"sku-1","quantity":2,'
                  b'"unitPriceCents":499}],"shippingAddress":{"line1":"1 Quay St"},'
                  b'"metadata":{"till":4,"note":"caf\\u00e9 \\ud83d\\ude00"}}',
    "deep_metadata_64": deep(62),
    "deep_metadata_65": deep(63),
    "deep_metadata_2500": deep(2500),
    "deep_objects": b'{"a":' * 100 + b"1" + b"}" * 100,
    "trailing_nul": ORDER + b"\0 this is not JSON",
    "trailing_value": ORDER + b'{"customerId":"d"}',
    "numbers": b'{"customerId":"c","items":[{"productId":"p","quantity":1e400,'
               b'"unitPriceCents":-9223372036854775809}]}',
    "top_array": b"[[[[]]]]",
}


QUERIES = {
    "orders_status_limit": (0, b"status=PENDING_SHIPMENT&limit=20"),
    "orders_after": (0, b"limit=500&after=42"),
    "orders_unknown_and_bad": (0, b"status=pending&limit=0&sort=desc"),
    "orders_percent": (0, b"limit=%35%30&status=SHIPPED"),
    "orders_plus_and_spaces": (0, b"status=SHIPPED+&limit=+5& after = 7 "),
    "outbox_status": (1, b"status=FAILED&limit=100&after=12"),
    "outbox_two_limits": (1, b"limit=5&limit=6&limit=5"),
    "outbox_huge_limit": (1, b"limit=9223372036854775808&after=-0"),
    "reviews_status_refused": (2, b"status=PENDING&limit=501"),
    "reviews_empty_parts": (2, b"&&=&limit=&after="),
    "reviews_nul": (2, b"after=1%00&limit=1"),
}

HEADER_VALUES = {
    "bearer": b"Bearer " + TOKEN.encode(),
    "bearer_lower_spaces": b"bearer   " + TOKEN.encode() + b"  ",
    "basic": b"Basic dXNlcjpwYXNz",
    "bearer_alone": b"Bearer",
    "json_charset": b"application/json; charset=utf-8",
    "json_upper_tab": b"Application/JSON\t;q=1",
    "problem_json": b"application/problem+json",
    "plus_json_alone": b"+json",
    "text_plain": b"text/plain",
    "key_ascii": b"idem-0001-7f3a9c",
    "key_utf8": "caf\u00e9-\U0001F600".encode(),
    "key_255_chars": "\u00e9".encode() * 255,
    "key_256_chars": "\u00e9".encode() * 256,
    "key_invalid_utf8": b"\xc3\x28",
    "key_overlong": b"\xc0\xaf",
    "key_surrogate": b"\xed\xa0\x80",
    "key_past_10ffff": b"\xf4\x90\x80\x80",
    "crlf_inside": b"Bearer a\r\nX-Injected: 1",
}

FULL_CONFIG = b"""{
  "node_id": "till-7",
  "listen": "0.0.0.0:8080",
  "database": "/var/lib/outpost/outpost.db",
  "database_busy_timeout_ms": 2000,
  "api_token": "till-secret-123456",
  "admin_token": "staff-secret-654321",
  "metrics_token": "scrape-secret",
  "product_service": {"url": "http://products.shop.lan:8081", "timeout_ms": 2000,
                      "recheck_interval_ms": 60000},
  "delivery_service": {"url": "https://delivery.example.com/api", "timeout_ms": 3000,
                       "retry": {"initial_delay_ms": 60000, "max_delay_ms": 300000,
                                 "max_attempts": 20}},
  "events": {"sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:orders.fifo",
             "sqs_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
             "region": "eu-west-1", "poll_interval_ms": 30000, "batch_size": 10,
             "max_retries": 5, "retention_ms": 604800000},
  "reconciliation": {"interval_ms": 300000, "stale_after_ms": 86400000},
  "checkout": {"reject_unavailable": false},
  "alerts": {"check_interval_ms": 60000, "outbox_backlog": 100, "manual_review_backlog": 50,
             "webhook_url": "http://alerts.shop.lan/hook"},
  "breakers": {"delivery-service": {"error_threshold_percentage": 40, "reset_timeout_ms": 60000,
                                    "volume_threshold": 5, "consecutive_failures": 3,
                                    "rolling_window_ms": 10000, "timeout_ms": 3000},
               "database": {"volume_threshold": 10}}
}"""


def config(file_text=b"", *env):
    return file_text + b"\0" + b"\n".join(env)


CONFIGS = {
    "spec_example": config(b'{"delivery_service": {"url": "http://delivery.local:8081"}, '
                           b'"breakers": {"delivery-service": {"reset_timeout_ms": 60000}}}'),
    "full": config(FULL_CONFIG),
    "full_with_environment": config(FULL_CONFIG, b"OUTPOST_EVENTS_BATCH_SIZE=4",
                                    b"OUTPOST_LISTEN=[::1]:9090", b"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                    b"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
                                    b"AWS_SESSION_TOKEN=token", b"PATH=/usr/bin"),
    "empty_object": config(b"{}"),
    "environment_only": config(b"", b"OUTPOST_EVENTS_SQS_QUEUE_URL=http://127.0.0.1:4566/1/q",
                               b"AWS_ENDPOINT_URL=http://127.0.0.1:4566", b"AWS_REGION=us-west-2",
                               b"OUTPOST_CHECKOUT_REJECT_UNAVAILABLE=0",
                               b"OUTPOST_BREAKERS_PRODUCT_SERVICE_TIMEOUT_MS=1500"),
    "open_listen_refused": config(b'{"listen": "0.0.0.0:8080"}'),
    "open_listen_allowed": config(b'{"listen": "shop-till.lan:8080", "allow_unauthenticated": true}'),
    "secret_wrong_type": config(b'{"api_token": 123456}'),
    "secret_empty_in_environment": config(b"", b"OUTPOST_ADMIN_TOKEN="),
    "batch_too_big": config(b'{"events": {"batch_size": 11}}'),
    "unknown_key": config(b'{"evnets": {"region": "x"}}'),
    "dotted_key": config(b'{"events.region": "eu-west-1"}'),
    "not_an_object": config(b"[1, 2]"),
    "null_optional": config(b'{"product_service": {"url": null}, "alerts": {"webhook_url": null}}'),
    "retry_delays_reversed": config(b"", b"OUTPOST_DELIVERY_SERVICE_RETRY_MAX_DELAY_MS=1000"),
    "key_without_secret": config(b"", b"AWS_ACCESS_KEY_ID=AKIDEXAMPLE"),
    "unknown_variable": config(b"", b"OUTPOST_LISTN=127.0.0.1:1"),
    "url_with_user": config(b'{"delivery_service": {"url": "HTTP://user:pw@[::1]:8081/x?y#z"}}'),
    "listen_leading_zeros": config(b'{"listen": "127.0.0.1:08080"}'),
    "number_as_text": config(b'{"events": {"max_retries": "5"}}', b"OUTPOST_EVENTS_MAX_RETRIES=5"),
    "control_in_value": config(b'{"node_id": "till\\u0007"}'),
}


def answer(status, choice, body):
    return bytes([status >> 8, status & 0xff, choice]) + body


SNS_NS = b'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"'
SNS_METADATA = b"<ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata>"


def sns_error(kind, code, message):
    return (b"<ErrorResponse " + SNS_NS + b"><Error><Type>" + kind + b"</Type><Code>" + code
            + b"</Code><Message>" + message + b"</Message></Error><RequestId>"
            b"42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>")


SNS_ANSWERS = {
    "publish": answer(200, 0, b"<PublishResponse " + SNS_NS + b">\n  <PublishResult>\n    "
                      b"<MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>\n"
                      b"    <SequenceNumber>10000000000000003000</SequenceNumber>\n"
                      b"  </PublishResult>\n  " + SNS_METADATA + b"\n</PublishResponse>\n"),
    "publish_batch_mixed": answer(200, 2, b"<PublishBatchResponse " + SNS_NS + b">"
                                  b"<PublishBatchResult><Successful><member>"
                                  b"<MessageId>0a5f2e9c-1111-4e59-9c2b-7b0f1f0d0e01</MessageId>"
                                  b"<Id>0</Id></member><member><Id>2</Id>"
                                  b"<MessageId>0a5f2e9c-2222-4e59-9c2b-7b0f1f0d0e02</MessageId>"
                                  b"</member></Successful><Failed><member>"
                                  b"<Code>InvalidParameter</Code><Id>1</Id><Message>Invalid "
                                  b"parameter: Message too long</Message>"
                                  b"<SenderFault>true</SenderFault></member></Failed>"
                                  b"</PublishBatchResult>" + SNS_METADATA
                                  + b"</PublishBatchResponse>"),
    "publish_batch_all_failed": answer(200, 1, b"<PublishBatchResponse " + SNS_NS + b">"
                                       b"<PublishBatchResult><Successful/><Failed>"
                                       b"<member><Id>0</Id><Code>KMSThrottling</Code>"
                                       b"<SenderFault>true</SenderFault></member>"
                                       b"<member><Id>1</Id><Code>InternalError</Code>"
                                       b"<Message>&quot;try again&quot; &amp; later &#x2014;</Message>"
                                       b"<SenderFault>false</SenderFault></member></Failed>"
                                       b"</PublishBatchResult></PublishBatchResponse>"),
    "not_found": answer(404, 0, sns_error(b"Sender", b"NotFound", b"Topic does not exist")),
    "signature": answer(403, 3, sns_error(b"Sender", b"SignatureDoesNotMatch",
                                          b"The request signature we calculated does not match "
                                          b"the signature you provided.")),
    "throttled": answer(400, 0, sns_error(b"Sender", b"Throttling", b"Rate exceeded")),
    "internal": answer(500, 9, sns_error(b"Receiver", b"InternalFailure",
                                         b"The request processing has failed")),
    "message_not_utf8": answer(400, 0, sns_error(b"Sender", b"InvalidParameter",
                                                 b"bad \xff\xfe &lt;Message&gt; &#233; &#xD800; &#0;")),
    "captive_portal": answer(200, 0, b"<html><head><title>Log in</title></head><body>Wi-Fi</body></html>"),
    "redirect": answer(302, 0, b""),
    "empty_publish": answer(200, 0, b"<PublishResponse/>"),
    "unclosed": answer(200, 4, b"<PublishBatchResponse><PublishBatchResult><Successful><member><Id>0"),
}

SQS_ANSWERS = {
    "send_message": answer(200, 0, b'{"MD5OfMessageAttributes":"3ae8f24a165a8cedc005670c81a27295",'
                           b'"MD5OfMessageBody":"fafb00f5732ab283681e124bf8747ed1",'
                           b'"MessageId":"219f8380-5770-4cc2-8c3e-5c715e145f5e"}'),
    "send_batch_mixed": answer(200, 2, b'{"Failed":[{"Code":"InvalidParameterValue","Id":"1",'
                               b'"Message":"Message must be shorter than 262144 bytes.",'
                               b'"SenderFault":true}],"Successful":[{"Id":"0",'
                               b'"MD5OfMessageBody":"fafb00f5732ab283681e124bf8747ed1",'
                               b'"MessageId":"a1b2c3d4-0000-4e59-9c2b-7b0f1f0d0e01"},{"Id":"2",'
                               b'"MD5OfMessageBody":"fafb00f5732ab283681e124bf8747ed1",'
                               b'"MessageId":"a1b2c3d4-0000-4e59-9c2b-7b0f1f0d0e02"}]}'),
    "send_batch_failed_throttled": answer(200, 1, b'{"Failed":[{"Code":"RequestThrottled","Id":"0",'
                                          b'"SenderFault":true},{"Code":"InternalError","Id":"1",'
                                          b'"Message":"try again","SenderFault":false}],'
                                          b'"Successful":[]}'),
    "invalid_signature": answer(400, 0, b'{"__type":"com.amazon.coral.service#InvalidSignatureException",'
                                b'"message":"The request signature we calculated does not match '
                                b'the signature you provided."}'),
    "queue_does_not_exist": answer(400, 3, b'{"__type":"com.amazonaws.sqs#QueueDoesNotExist",'
                                   b'"message":"The specified queue does not exist."}'),
    "unrecognized_client": answer(400, 0, b'{"__type":"com.amazon.coral.service#UnrecognizedClientException",'
                                  b'"Message":"The security token included in the request is invalid."}'),
    "throttled": answer(400, 9, b'{"__type":"com.amazonaws.sqs#ThrottlingException",'
                        b'"message":"Rate exceeded"}'),
    "internal": answer(500, 1, b'{"__type":"com.amazonaws.sqs#InternalError"}'),
    "html_200": answer(200, 1, b"<html><body>proxy</body></html>"),
    "neither_list": answer(200, 1, b'{"ResponseMetadata":{}}'),
    "lists_of_other_types": answer(200, 2, b'{"Successful":{"Id":"0"},"Failed":[1,"x",null,{"Id":2}]}'),
    "sender_fault_as_text": answer(200, 1, b'{"Failed":[{"Id":"0","Code":"InvalidMessageContents",'
                                   b'"SenderFault":"true"},{"Id":"1","SenderFault":1}]}'),
    "empty_message_id": answer(200, 0, b'{"MessageId":""}'),
}

PRODUCTS = b'[{"productId":"sku-1","available":true,"quantity":12},'
PRODUCT_ANSWERS = {
    "two_available": answer(200, 2, PRODUCTS + b'{"productId":"sku-2","available":false,"quantity":0}]'),
    "one_missing": answer(200, 3, PRODUCTS[:-1] + b"]"),
    "empty_list": answer(200, 0, b"[]"),
    "object_not_list": answer(200, 1, b'{"productId":"sku-1","available":true,"quantity":1}'),
    "quantity_fraction": answer(200, 1, b'[{"productId":"sku-1","available":true,"quantity":1.5}]'),
    "quantity_huge": answer(200, 1, b'[{"productId":"sku-1","available":true,'
                                    b'"quantity":18446744073709551615}]'),
    "available_as_text": answer(200, 1, b'[{"productId":"sku-1","available":"yes","quantity":3}]'),
    "duplicate_ids": answer(200, 1, PRODUCTS + b'{"productId":"sku-1","available":false,"quantity":0}]'),
    "server_error": answer(500, 2, b'{"error":"database unavailable"}'),
    "not_found": answer(404, 1, b'{"error":"no such route"}'),
    "throttled": answer(429, 1, b""),
    "html_200": answer(200, 2, b"<html>captive portal</html>"),
    "no_answer": answer(0, 1, b""),
}

DELIVERY_ANSWERS = {
    "initiate_created": answer(201, 0, b'{"id":"DLV-9f2c41","orderId":"ORD-01M916T5WX8CJMZ3RGHPZ4CRCM",'
                               b'"status":"CREATED"}'),
    "initiate_replayed": answer(200, 0, b'{"id":"DLV-9f2c41","status":"IN_TRANSIT"}'),
    "initiate_no_id": answer(201, 0, b'{"status":"CREATED"}'),
    "initiate_id_number": answer(201, 0, b'{"id":42,"status":"CREATED"}'),
    "initiate_refused": answer(422, 0, b'{"error":"no such address"}'),
    "status_in_transit": answer(200, 1, b'{"id":"DLV-1","status":"IN_TRANSIT"}'),
    "status_missing": answer(200, 1, b'{"id":"DLV-1"}'),
    "status_not_found": answer(404, 1, b'{"error":"not found"}'),
    "cancel_done": answer(200, 2, b'{"id":"DLV-1","status":"CANCELLED"}'),
    "cancel_other_id": answer(200, 2, b'{"id":"DLV-2","status":"CANCELLED"}'),
    "cancel_not_cancelled": answer(200, 2, b'{"id":"DLV-1","status":"PICKED_UP"}'),
    "cancel_refused": answer(409, 2, b'{"error":"the parcel has left"}'),
    "cancel_not_found": answer(404, 2, b""),
    "unavailable": answer(503, 0, b"Service Unavailable"),
    "redirect": answer(302, 1, b""),
    "html_200": answer(200, 2, b"<html>log in</html>"),
    "no_answer": answer(0, 0, b""),
}


def write(folder, name, data):
    path = os.path.join(HERE, "corpus", folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "seed_" + name), "wb") as out:
        out.write(data)


for name, (first, data) in REQUESTS.items():
    write("request_parser", name, bytes([first]) + data)
for name, data in JSON_BODIES.items():
    write("json_body", name, data)
for name, (page, query) in QUERIES.items():
    write("query_string", name, bytes([page]) + query)
for name, data in HEADER_VALUES.items():
    write("header_values", name, data)
for name, data in CONFIGS.items():
    write("config", name, data)
for folder, answers in (("sns_answer", SNS_ANSWERS), ("sqs_answer", SQS_ANSWERS),
                        ("product_answer", PRODUCT_ANSWERS),
                        ("delivery_answer", DELIVERY_ANSWERS)):
    for name, data in answers.items():
        write(folder, name, data)
