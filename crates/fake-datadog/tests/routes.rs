//! Route tests: the fake's API driven in-process with `oneshot`, checking
//! the live behaviours it emulates (FACTS §3–4) and its test controls.

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fake_datadog::Config;
use serde_json::{json, Value};
use support::{doc, is_lower_hex32, role_account, Fake, Keys, ACCOUNTS, API_KEY, APP_KEY};

const EXT_ID_PATH: &str = "/api/v2/integration/aws/generate_new_external_id";

fn account_path(id: &str) -> String {
    format!("{ACCOUNTS}/{id}")
}

/// A create with only the required fields answers 200 with every default the
/// live server fills in, a UUID id and a freshly issued 32-hex external ID.
#[tokio::test]
async fn minimal_create_fills_live_defaults() {
    let fake = Fake::new();
    let r = fake.create(role_account("111111111111")).await;
    assert_eq!(r.header("content-type"), Some("application/vnd.api+json"));
    assert!(uuid::Uuid::parse_str(&r.id()).is_ok(), "id: {}", r.id());
    assert_eq!(r.json["data"]["type"], "account");
    let mut attrs = r.attrs().clone();
    let ext = attrs["auth_config"]["external_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(is_lower_hex32(&ext), "external_id {ext:?}");
    assert_eq!(attrs["created_at"], attrs["modified_at"]);
    for k in ["created_at", "modified_at"] {
        attrs.as_object_mut().map(|o| o.remove(k));
    }
    assert_eq!(
        attrs,
        json!({
            "account_tags": [],
            "auth_config": {"role_name": "DatadogIntegrationRole", "external_id": ext},
            "aws_account_id": "111111111111",
            "aws_partition": "aws",
            "aws_regions": {"include_all": true},
            "logs_config": {"lambda_forwarder": {"lambdas": [], "sources": [], "log_source_config": {"tag_filters": []}}},
            "metrics_config": {
                "enabled": true, "automute_enabled": true,
                "collect_custom_metrics": false, "collect_cloudwatch_alarms": false,
                "tag_filters": [],
                "namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/ElasticMapReduce"]}
            },
            "resources_config": {"cloud_security_posture_management_collection": false, "extended_collection": true},
            "traces_config": {"xray_services": {"include_only": []}}
        })
    );
}

/// Create → get (bare and `%22`-quoted id) → PATCH merges → delete (204,
/// empty) → get 404 → delete again 404, with the live bodies.
#[tokio::test]
async fn account_lifecycle_with_merging_patch() {
    let fake = Fake::new();
    let created = fake
        .create(json!({
            "aws_account_id": "222222222222",
            "aws_partition": "aws",
            "account_tags": ["key:value"],
            "auth_config": {"role_name": "DatadogIntegrationRole"},
            "aws_regions": {"include_only": ["us-east-1"]},
            "metrics_config": {"namespace_filters": {"include_only": ["AWS/EC2"]}},
            "traces_config": {"xray_services": {"include_only": ["AWS/AppSync"]}}
        }))
        .await;
    let id = created.id();
    let ext = created.attrs()["auth_config"]["external_id"].clone();

    let got = fake.api("GET", &account_path(&id), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.attrs()["aws_regions"], created.attrs()["aws_regions"]);
    let quoted = fake
        .api("GET", &account_path(&format!("%22{id}%22")), None)
        .await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.raw);
    assert_eq!(quoted.id(), id);

    // The live 2024 PATCH: regions and namespace filters omitted, traces {},
    // auth_config without external_id, tags replaced.
    let patched = fake
        .api(
            "PATCH",
            &account_path(&id),
            Some(&doc(json!({
                "aws_account_id": "222222222222",
                "account_tags": ["team:a", "env:b"],
                "auth_config": {"role_name": "OtherRole"},
                "metrics_config": {"collect_custom_metrics": true},
                "traces_config": {}
            }))),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.raw);
    let a = patched.attrs();
    assert_eq!(a["account_tags"], json!(["team:a", "env:b"]));
    assert_eq!(
        a["auth_config"],
        json!({"role_name": "OtherRole", "external_id": ext})
    );
    assert_eq!(a["aws_regions"], json!({"include_only": ["us-east-1"]}));
    assert_eq!(
        a["metrics_config"]["namespace_filters"],
        json!({"include_only": ["AWS/EC2"]})
    );
    assert_eq!(a["metrics_config"]["collect_custom_metrics"], true);
    assert_eq!(a["metrics_config"]["enabled"], true);
    assert_eq!(
        a["traces_config"],
        json!({"xray_services": {"include_only": ["AWS/AppSync"]}})
    );
    assert_eq!(
        a["created_at"],
        got.attrs()["created_at"],
        "created_at is kept"
    );

    // What PATCH answered is what GET now shows.
    let after = fake.api("GET", &account_path(&id), None).await;
    assert_eq!(after.attrs()["account_tags"], a["account_tags"]);

    let del = fake
        .api("DELETE", &account_path(&format!("%22{id}%22")), None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert!(del.raw.is_empty());
    assert_eq!(del.header("content-type"), None);

    let not_found = json!({"errors": [{"status": "404", "title": "Account not found",
        "detail": "AWS account with provided id is not integrated"}]});
    for method in ["GET", "DELETE"] {
        let r = fake.api(method, &account_path(&id), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(r.json, not_found, "{method}");
        assert_eq!(r.header("content-type"), Some("application/vnd.api+json"));
    }
    let r = fake
        .api(
            "PATCH",
            &account_path(&id),
            Some(&doc(role_account("222222222222"))),
        )
        .await;
    assert_eq!(r.json, not_found);
}

/// A second config for the same AWS account is the live 409; so is a PATCH
/// moving a config onto an AWS account another config has.
#[tokio::test]
async fn duplicate_aws_account_id_conflicts() {
    let fake = Fake::new();
    fake.create(role_account("333333333333")).await;
    let dup = fake
        .api("POST", ACCOUNTS, Some(&doc(role_account("333333333333"))))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.json,
        json!({"errors": [{"status": "409", "title": "Account already exists",
            "detail": "AWS account with provided id already exists"}]})
    );
    let other = fake.create(role_account("444444444444")).await.id();
    let moved = fake
        .api(
            "PATCH",
            &account_path(&other),
            Some(&doc(json!({"aws_account_id": "333333333333"}))),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    let same = fake
        .api(
            "PATCH",
            &account_path(&other),
            Some(&doc(json!({"aws_account_id": "444444444444"}))),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "re-stating its own id is fine");
}

/// Bad ids, partitions, external IDs, role names and bodies are 400s in the
/// live shapes.
#[tokio::test]
async fn invalid_requests_are_rejected() {
    let fake = Fake::new();
    let bad_id = json!({"errors": [{"status": "400", "title": "Invalid Parameter",
        "detail": "invalid parameter \"aws_account_config_id\" in \"path\"; expected type \"uuid\""}]});
    for method in ["GET", "DELETE", "PATCH"] {
        let body = doc(role_account("555555555555"));
        let r = fake
            .api(method, &account_path("not-a-uuid"), Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(r.json, bad_id, "{method}");
    }

    let mut attrs = role_account("555555555555");
    attrs["aws_partition"] = json!("aws-invalid");
    let r = fake.api("POST", ACCOUNTS, Some(&doc(attrs))).await;
    assert_eq!(
        r.json,
        json!({"errors": [{"status": "400", "title": "Bad Request", "detail": "invalid value",
            "meta": {"aws_partition": "invalid partition: aws-invalid"}}]})
    );

    let mut attrs = role_account("555555555555");
    attrs["auth_config"]["external_id"] = json!("0123456789abcdef0123456789abcdef");
    let r = fake.api("POST", ACCOUNTS, Some(&doc(attrs))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json,
        json!({"errors": [{"status": "400", "title": "Bad Request", "detail": "invalid External ID"}]})
    );

    let named = |name: &str, attrs: Value| (name.to_owned(), doc(attrs));
    let mut cases = vec![
        named(
            "long-role-name",
            json!({"aws_account_id": "555555555555", "aws_partition": "aws",
            "auth_config": {"role_name": "r".repeat(577)}}),
        ),
        named(
            "no-auth-config",
            json!({"aws_account_id": "555555555555", "aws_partition": "aws"}),
        ),
        named(
            "no-partition",
            json!({"aws_account_id": "555555555555",
            "auth_config": {"role_name": "r"}}),
        ),
        named(
            "no-account-id",
            json!({"aws_partition": "aws", "auth_config": {"role_name": "r"}}),
        ),
        named(
            "both-auth-kinds",
            json!({"aws_account_id": "555555555555", "aws_partition": "aws",
            "auth_config": {"role_name": "r", "access_key_id": "AKIA"}}),
        ),
        named(
            "regions-both-keys",
            json!({"aws_account_id": "555555555555", "aws_partition": "aws",
            "auth_config": {"role_name": "r"}, "aws_regions": {"include_all": true, "include_only": []}}),
        ),
    ];
    cases.push((
        "wrong-type".into(),
        json!({"data": {"type": "nope", "attributes": role_account("555555555555")}}),
    ));
    cases.push(("no-data".into(), json!({"attributes": {}})));
    for (name, body) in cases {
        let r = fake.api("POST", ACCOUNTS, Some(&body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.raw);
        assert_eq!(r.json["errors"][0]["status"], "400", "{name}");
    }
    let r = fake.send("POST", ACCOUNTS, None, Keys::Both).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "empty body");

    // PATCH needs aws_account_id.
    let id = fake.create(role_account("555555555555")).await.id();
    let r = fake
        .api(
            "PATCH",
            &account_path(&id),
            Some(&doc(json!({"account_tags": []}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let listed = fake.api("GET", ACCOUNTS, None).await;
    assert_eq!(
        listed.json["data"].as_array().map(Vec::len),
        Some(1),
        "nothing else stored"
    );
}

/// An ID from generate_new_external_id is accepted on create (and later
/// PATCHes), and the answer has the live shape.
#[tokio::test]
async fn generated_external_id_is_accepted() {
    let fake = Fake::new();
    let r = fake.api("POST", EXT_ID_PATH, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let ext = r.json["data"]["attributes"]["external_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(is_lower_hex32(&ext));
    assert_eq!(
        r.json,
        json!({"data": {"id": ext, "type": "external_id",
        "attributes": {"external_id": ext}}})
    );

    let mut attrs = role_account("666666666666");
    attrs["auth_config"]["external_id"] = json!(ext);
    let created = fake.create(attrs.clone()).await;
    assert_eq!(created.attrs()["auth_config"]["external_id"], json!(ext));

    // Rotating to another issued ID works; to a foreign one does not.
    let next = fake.api("POST", EXT_ID_PATH, None).await.json["data"]["id"].clone();
    attrs["auth_config"]["external_id"] = next.clone();
    let r = fake
        .api(
            "PATCH",
            &account_path(&created.id()),
            Some(&doc(attrs.clone())),
        )
        .await;
    assert_eq!(r.attrs()["auth_config"]["external_id"], next);
    attrs["auth_config"]["external_id"] = json!("ffffffffffffffffffffffffffffffff");
    let r = fake
        .api("PATCH", &account_path(&created.id()), Some(&doc(attrs)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["errors"][0]["detail"], "invalid External ID");
}

/// Key-based auth is accepted, the secret is never answered (but kept when a
/// PATCH omits it), and switching to role auth is the live 400.
#[tokio::test]
async fn key_auth_keeps_secret_private() {
    let fake = Fake::new();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let created = fake
        .create(
            json!({"aws_account_id": "777777777777", "aws_partition": "aws-us-gov",
            "auth_config": {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": secret}}),
        )
        .await;
    assert_eq!(
        created.attrs()["auth_config"],
        json!({"access_key_id": "AKIAIOSFODNN7EXAMPLE"})
    );
    assert!(!created.raw.contains(secret));
    let id = created.id();

    let r = fake
        .api(
            "PATCH",
            &account_path(&id),
            Some(&doc(json!({"aws_account_id": "777777777777",
            "auth_config": {"access_key_id": "AKIANEW"}}))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.attrs()["auth_config"],
        json!({"access_key_id": "AKIANEW"})
    );
    for r in [
        fake.api("GET", &account_path(&id), None).await,
        fake.api("GET", ACCOUNTS, None).await,
    ] {
        assert!(!r.raw.contains(secret));
    }
    let dump = fake.admin("GET", "/accounts", None).await;
    assert_eq!(
        dump.json["accounts"][0]["secret_access_key"], secret,
        "kept when omitted"
    );

    let r = fake
        .api(
            "PATCH",
            &account_path(&id),
            Some(&doc(role_account("777777777777"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json,
        json!({"errors": [{"title": "Generic Error", "detail": "cannot switch between role and key based auth"}]})
    );
}

/// v2 routes need both keys; v1 validate checks only the API key.
#[tokio::test]
async fn keys_are_required() {
    let fake = Fake::new();
    let routes = [
        ("GET", ACCOUNTS.to_owned()),
        ("POST", ACCOUNTS.to_owned()),
        ("GET", account_path("66393984-2398-4fe3-b8b8-74ab91bebc17")),
        ("DELETE", account_path("not-even-a-uuid")),
        ("POST", EXT_ID_PATH.to_owned()),
    ];
    for (method, path) in &routes {
        for keys in [Keys::None, Keys::ApiOnly, Keys::WrongApp] {
            let r = fake.send(method, path, None, keys).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} {keys:?}");
            assert_eq!(r.json, json!({"errors": ["Forbidden"]}));
        }
    }
    let ok = fake
        .send("GET", "/api/v1/validate", None, Keys::ApiOnly)
        .await;
    assert_eq!(
        (ok.status, ok.json.clone()),
        (StatusCode::OK, json!({"valid": true}))
    );
    let wrong = fake
        .send("GET", "/api/v1/validate", None, Keys::WrongApp)
        .await;
    assert_eq!(wrong.status, StatusCode::OK, "the app key is not checked");
    let missing = fake.send("GET", "/api/v1/validate", None, Keys::None).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.json, json!({"errors": ["API key required"]}));

    let other = Fake::with(Config::new("different", APP_KEY));
    let r = other
        .send("GET", "/api/v1/validate", None, Keys::Both)
        .await;
    assert_eq!(
        (r.status, r.json),
        (StatusCode::FORBIDDEN, json!({"errors": ["Forbidden"]}))
    );
}

/// Faults apply to matching requests in registration order and are used up;
/// 429s carry X-RateLimit-Reset, 5xx a JSON:API body; drops are flagged; the
/// request log records each, without header values.
#[tokio::test]
async fn faults_are_consumed_in_order() {
    let fake = Fake::new();
    let id = fake.create(role_account("888888888888")).await.id();
    let faults = json!([
        {"method": "GET", "path": "/api/v2/integration/aws/accounts/*", "kind": "status",
         "status": 429, "count": 2, "reset_seconds": 3},
        {"path": "/api/v2/integration/aws/accounts/*", "kind": "status", "status": 503},
        {"kind": "drop", "method": "delete"},
        {"kind": "latency", "ms": 150}
    ]);
    let added = fake.admin("POST", "/faults", Some(&faults)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.raw);

    // A list call does not match the `/*` faults, only the latency one.
    let started = Instant::now();
    let list = fake.api("GET", ACCOUNTS, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let path = account_path(&id);
    let r1 = fake.api("GET", &path, None).await;
    let r2 = fake
        .api("GET", &format!("{ACCOUNTS}/%22{id}%22"), None)
        .await;
    for r in [&r1, &r2] {
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("x-ratelimit-reset"), Some("3"));
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
        assert_eq!(r.json, json!({"errors": ["Too many requests"]}));
    }
    let r3 = fake.api("GET", &path, None).await;
    assert_eq!(r3.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r3.json["errors"][0]["status"], "503");
    assert_eq!(r3.header("content-type"), Some("application/vnd.api+json"));
    let r4 = fake.api("DELETE", &path, None).await;
    assert!(r4.dropped, "drop fault flags the response");
    let r5 = fake.api("GET", &path, None).await;
    assert_eq!(r5.status, StatusCode::OK, "all faults used up");
    let pending = fake.admin("GET", "/faults", None).await;
    assert_eq!(pending.json["faults"], json!([]));

    let log = fake.admin("GET", "/requests", None).await;
    let entries = log.json["requests"].as_array().cloned().unwrap_or_default();
    let summary: Vec<(Value, Value)> = entries
        .iter()
        .map(|e| (e["status"].clone(), e["fault"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(200), Value::Null),
            (json!(200), json!("latency:150ms")),
            (json!(429), json!("status:429")),
            (json!(429), json!("status:429")),
            (json!(503), json!("status:503")),
            (Value::Null, json!("drop")),
            (json!(200), Value::Null),
        ]
    );
    assert_eq!(entries[3]["path"], format!("{ACCOUNTS}/%22{id}%22"));
    assert!(!log.raw.contains(API_KEY) && !log.raw.contains(APP_KEY));

    let cleared = fake.admin("DELETE", "/requests", None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    let log = fake.admin("GET", "/requests", None).await;
    assert_eq!(log.json["requests"], json!([]));

    let bad = fake
        .admin(
            "POST",
            "/faults",
            Some(&json!({"kind": "status", "status": 200})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// `v` with every array (at any depth) sorted, for set-wise comparison.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalized).collect();
            items.sort_by_key(Value::to_string);
            Value::Array(items)
        }
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalized(v))).collect())
        }
        other => other.clone(),
    }
}

/// With shuffling on (fixed seed), every list comes back as the same set in
/// a different order, deterministically; switching it off restores order.
#[tokio::test]
async fn shuffle_permutes_lists_with_fixed_seed() {
    let attrs = json!({
        "aws_account_id": "999999999999", "aws_partition": "aws",
        "auth_config": {"role_name": "R"},
        "account_tags": ["a:1", "b:2", "c:3", "d:4"],
        "aws_regions": {"include_only": ["us-east-1", "us-east-2", "eu-west-1", "ap-south-1"]},
        "logs_config": {"lambda_forwarder": {"lambdas": ["arn:1", "arn:2", "arn:3"],
            "sources": ["s3", "elb", "lambda"],
            "log_source_config": {"tag_filters": [{"source": "s3", "tags": ["x:1", "y:2"]},
                                                  {"source": "elb", "tags": ["z:3"]}]}}},
        "metrics_config": {"namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/EMR", "AWS/Usage"]},
            "tag_filters": [{"namespace": "AWS/EC2", "tags": ["k:1", "k:2"]}, {"namespace": "AWS/RDS", "tags": []}]},
        "traces_config": {"xray_services": {"include_only": ["AWS/AppSync", "AWS/Lambda"]}}
    });
    let lists = [
        "/account_tags",
        "/aws_regions/include_only",
        "/logs_config/lambda_forwarder/lambdas",
        "/logs_config/lambda_forwarder/sources",
        "/logs_config/lambda_forwarder/log_source_config/tag_filters",
        "/metrics_config/namespace_filters/exclude_only",
        "/metrics_config/tag_filters",
        "/traces_config/xray_services/include_only",
    ];
    let run = || async {
        let fake = Fake::with(
            Config::new(support::API_KEY, APP_KEY)
                .shuffle_lists(true)
                .seed(1234),
        );
        let created = fake.create(attrs.clone()).await;
        let id = created.id();
        let got = fake.api("GET", &account_path(&id), None).await;
        (fake, id, created, got)
    };
    let (fake, id, created, got) = run().await;
    for r in [&created, &got] {
        for p in lists {
            let sent = attrs.pointer(p).cloned().unwrap_or_default();
            let back = r.attrs().pointer(p).cloned().unwrap_or_default();
            assert_eq!(normalized(&sent), normalized(&back), "{p}: same set");
            assert_ne!(sent, back, "{p}: different order");
        }
    }
    let (_, _, _, again) = run().await;
    let strip = |r: &support::Reply| {
        let mut a = r.attrs().clone();
        // Timestamps and the issued external ID differ between runs.
        a.as_object_mut()
            .map(|o| (o.remove("created_at"), o.remove("modified_at")));
        a["auth_config"]["external_id"] = Value::Null;
        a
    };
    assert_eq!(strip(&got), strip(&again), "same seed, same permutations");

    // The list endpoint's order is shuffled too.
    for n in 0..5 {
        fake.create(role_account(&format!("10000000000{n}"))).await;
    }
    let listed = fake.api("GET", ACCOUNTS, None).await;
    let ids: Vec<String> = listed.json["data"].as_array().map_or_else(Vec::new, |a| {
        a.iter()
            .map(|d| d["attributes"]["aws_account_id"].to_string())
            .collect()
    });
    let mut creation_order = vec![json!("999999999999").to_string()];
    creation_order.extend((0..5).map(|n| json!(format!("10000000000{n}")).to_string()));
    assert_eq!(normalized(&json!(ids)), normalized(&json!(creation_order)));
    assert_ne!(ids, creation_order);

    let off = fake
        .admin("POST", "/shuffle", Some(&json!({"enabled": false})))
        .await;
    assert_eq!(off.json, json!({"enabled": false}));
    let plain = fake.api("GET", &account_path(&id), None).await;
    for p in lists {
        assert_eq!(
            attrs.pointer(p),
            plain.attrs().pointer(p),
            "{p}: stored order"
        );
    }
    let on = fake
        .admin("POST", "/shuffle", Some(&json!({"enabled": true})))
        .await;
    assert_eq!(on.status, StatusCode::OK);
    let state = fake.admin("GET", "/shuffle", None).await;
    assert_eq!(state.json, json!({"enabled": true}));
}

/// The list filter by aws_account_id returns only that account; an empty
/// filter means none; no match is an empty list. Order is creation order.
#[tokio::test]
async fn list_filters_by_aws_account_id() {
    let fake = Fake::new();
    let ids = ["123456789012", "210987654321", "000000000001"];
    for id in ids {
        fake.create(role_account(id)).await;
    }
    let all = fake.api("GET", ACCOUNTS, None).await;
    let got: Vec<&str> = all.json["data"].as_array().map_or_else(Vec::new, |a| {
        a.iter()
            .filter_map(|d| d["attributes"]["aws_account_id"].as_str())
            .collect()
    });
    assert_eq!(got, ids);
    let one = fake
        .api(
            "GET",
            &format!("{ACCOUNTS}?aws_account_id=210987654321"),
            None,
        )
        .await;
    assert_eq!(one.json["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        one.json["data"][0]["attributes"]["aws_account_id"],
        "210987654321"
    );
    let empty_filter = fake
        .api("GET", &format!("{ACCOUNTS}?aws_account_id="), None)
        .await;
    assert_eq!(empty_filter.json["data"].as_array().map(Vec::len), Some(3));
    let none = fake
        .api(
            "GET",
            &format!("{ACCOUNTS}?aws_account_id=999999999999"),
            None,
        )
        .await;
    assert_eq!(none.json, json!({"data": []}));
}

/// Every answer (success, error, 204, forbidden, unknown route) carries the
/// five X-RateLimit headers; unknown routes are JSON:API 404s.
#[tokio::test]
async fn rate_limit_headers_on_every_answer() {
    let fake = Fake::new();
    let id = fake.create(role_account("121212121212")).await.id();
    let answers = [
        fake.api("GET", ACCOUNTS, None).await,
        fake.api("GET", &account_path("not-a-uuid"), None).await,
        fake.send("GET", ACCOUNTS, None, Keys::None).await,
        fake.api("DELETE", &account_path(&id), None).await,
        fake.api("GET", "/api/v2/integration/aws/nope", None).await,
        fake.send("GET", "/api/v1/validate", None, Keys::ApiOnly)
            .await,
    ];
    for r in &answers {
        for h in ["limit", "period", "remaining", "reset", "name"] {
            let v = r.header(&format!("x-ratelimit-{h}"));
            assert!(
                v.is_some_and(|v| !v.is_empty()),
                "{h} missing on {}",
                r.status
            );
        }
    }
    assert_eq!(answers[4].status, StatusCode::NOT_FOUND);
    assert_eq!(answers[4].json["errors"][0]["status"], "404");
}

/// Reset forgets accounts, issued external IDs, faults and the log.
#[tokio::test]
async fn reset_forgets_everything() {
    let fake = Fake::new();
    let ext = fake.api("POST", EXT_ID_PATH, None).await.json["data"]["id"].clone();
    fake.create(role_account("131313131313")).await;
    fake.admin(
        "POST",
        "/faults",
        Some(&json!({"kind": "status", "status": 500, "path": "/nowhere"})),
    )
    .await;
    let r = fake.admin("POST", "/reset", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        fake.api("GET", ACCOUNTS, None).await.json,
        json!({"data": []})
    );
    assert_eq!(
        fake.admin("GET", "/faults", None).await.json["faults"],
        json!([])
    );
    let log = fake.admin("GET", "/requests", None).await;
    assert_eq!(
        log.json["requests"].as_array().map(Vec::len),
        Some(1),
        "only the call after reset"
    );
    let mut attrs = role_account("131313131313");
    attrs["auth_config"]["external_id"] = ext;
    let r = fake.api("POST", ACCOUNTS, Some(&doc(attrs))).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "issued IDs are forgotten"
    );
    let health = fake.admin("GET", "/health", None).await;
    assert_eq!(health.json["status"], "ok");
}

/// A thousand accounts and a few hundred reads stay fast (debug build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_accounts_stay_fast() {
    let fake = Fake::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..4u64 {
        let fake = fake.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..250u64 {
                fake.create(role_account(&format!("{:012}", worker * 1000 + n)))
                    .await;
            }
        }));
    }
    for t in tasks {
        assert!(t.await.is_ok());
    }
    for n in 0..300u64 {
        let r = fake
            .api(
                "GET",
                &format!("{ACCOUNTS}?aws_account_id={:012}", n % 250),
                None,
            )
            .await;
        assert_eq!(r.json["data"].as_array().map(Vec::len), Some(1));
    }
    let all = fake.api("GET", ACCOUNTS, None).await;
    assert_eq!(all.json["data"].as_array().map(Vec::len), Some(1000));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// An enforced rate limit: each API key gets N requests per period, then
/// Datadog's 429 with the rate-limit headers (logged as "rate limit"); removing
/// the limit (or a reset) lifts it.
#[tokio::test]
async fn an_enforced_rate_limit_answers_429_past_the_limit() {
    let fake = Fake::new();
    let set = fake.admin("POST", "/rate-limit", Some(&json!({"limit": 3, "period_seconds": 3600}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.raw);
    assert_eq!(fake.admin("POST", "/rate-limit", Some(&json!({"limit": 0, "period_seconds": 1}))).await.status, StatusCode::BAD_REQUEST);
    let answers = listings(&fake, 5).await;
    let ok = answers.iter().filter(|r| r.status == StatusCode::OK).count();
    let limited: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!((ok, limited.len()), (3, 2));
    for r in &limited {
        assert_eq!(r.json, json!({"errors": ["Too many requests"]}));
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        assert!(r.header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    }
    let log = fake.admin("GET", "/requests", None).await;
    let logged = log.json["requests"].as_array().map(|l| l.iter().filter(|e| e["fault"] == "rate limit").count());
    assert_eq!(logged, Some(2));
    assert_eq!(fake.admin("DELETE", "/rate-limit", None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(fake.api("GET", ACCOUNTS, None).await.status, StatusCode::OK);
}

/// `n` listings, one after the other.
async fn listings(fake: &Fake, n: usize) -> Vec<support::Reply> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(fake.api("GET", ACCOUNTS, None).await);
    }
    out
}
