//! template.yaml read as a reviewer would: each function may call exactly the actions its
//! code calls, on its own service's resources only; every method needs a key; the local
//! limits are the deployed ones.

use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};

fn template() -> Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A function's allowed (action, resource) pairs, the resource as `!GetAtt` names it.
fn grants<'a>(resource: &'a str, actions: &[&'a str]) -> BTreeSet<(&'a str, &'a str)> {
    actions.iter().map(|a| (*a, resource)).collect()
}

#[test]
fn each_function_may_call_only_the_actions_it_uses_on_its_own_resources() {
    let events_writer = grants(
        "EventsTable.Arn",
        &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
    );
    let mut aggregator = grants(
        "EventsAggregatesTable.Arn",
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
    );
    aggregator.extend(grants(
        "EventsTable.StreamArn",
        &[
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
    ));
    aggregator.extend(grants(
        "EventsAggregationFailures.Arn",
        &["sqs:SendMessage"],
    ));
    // A chart write: reads (GetItem, BatchGetItem), the commit and the clear
    // (TransactWriteItems of PutItem, UpdateItem, DeleteItem), the points (BatchWriteItem).
    let chart_writer = grants(
        "FactoriesTable.Arn",
        &[
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
    );
    // The catalog's reads (META, a generation's items), a refresh in the request (lease,
    // adoption, items), and the background refresh: an asynchronous invoke of its function.
    let mut graphql = grants(
        "CatalogTable.Arn",
        &[
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
        ],
    );
    graphql.extend(grants(
        "RefreshUpstreamFunction.Arn",
        &["lambda:InvokeFunction"],
    ));
    let expected: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::from([
        (
            "CreateAccountFunction",
            grants(
                "Table.Arn",
                &[
                    "dynamodb:UpdateItem",
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                ],
            ),
        ),
        (
            "PlaceOrderFunction",
            grants(
                "Table.Arn",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:PutItem",
                    "dynamodb:ConditionCheckItem",
                ],
            ),
        ),
        (
            "GetAccountFunction",
            grants("Table.Arn", &["dynamodb:GetItem"]),
        ),
        (
            "ListOrdersFunction",
            grants("Table.Arn", &["dynamodb:Query", "dynamodb:GetItem"]),
        ),
        ("CreateEventFunction", events_writer),
        (
            "GetEventFunction",
            grants("EventsTable.Arn", &["dynamodb:GetItem"]),
        ),
        (
            "DeleteEventFunction",
            grants("EventsTable.Arn", &["dynamodb:DeleteItem"]),
        ),
        (
            "ReportFunction",
            grants(
                "EventsAggregatesTable.Arn",
                &["dynamodb:GetItem", "dynamodb:Query"],
            ),
        ),
        ("AggregateEventsFunction", aggregator),
        (
            "SprocketsFunction",
            grants(
                "FactoriesTable.Arn",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
            ),
        ),
        ("FactoriesFunction", chart_writer.clone()),
        ("ImportsFunction", chart_writer),
        (
            "FactoriesLegacyFunction",
            grants(
                "FactoriesTable.Arn",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
            ),
        ),
        ("GraphqlFunction", graphql),
        (
            "RefreshUpstreamFunction",
            grants(
                "CatalogTable.Arn",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchWriteItem",
                ],
            ),
        ),
    ]);
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let mut seen = BTreeSet::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not expected"));
        seen.insert(name);
        let policies = resource["Properties"]["Policies"]
            .as_sequence()
            .expect("Policies");
        assert_eq!(policies.len(), 1, "{name}: one inline policy only");
        let statements = policies[0]["Statement"].as_sequence().expect("Statement");
        let mut granted = BTreeSet::new();
        for s in statements {
            assert_eq!(s["Effect"].as_str(), Some("Allow"), "{name}");
            let on = format!("{:?}", s["Resource"]);
            assert!(on.contains("GetAtt"), "{name}: {on}");
            // The one resource of `want` this statement names, exactly.
            let resource = want
                .iter()
                .map(|(_, r)| *r)
                .find(|r| on.contains(&format!("\"{r}\"")))
                .unwrap_or_else(|| panic!("{name}: a statement on {on}"));
            for a in s["Action"].as_sequence().expect("a list of actions") {
                let a = a.as_str().unwrap();
                assert!(!a.contains('*'), "{name}: wildcard {a}");
                granted.insert((a, resource));
            }
        }
        assert_eq!(&granted, want, "{name}");
    }
    assert_eq!(seen.len(), expected.len());
}

#[test]
fn every_method_needs_an_api_key_and_the_stage_is_throttled() {
    let t = template();
    let api = &t["Resources"]["Api"]["Properties"];
    assert_eq!(api["Auth"]["ApiKeyRequired"].as_bool(), Some(true));
    assert!(!api["MethodSettings"][0]["ThrottlingRateLimit"].is_null());
    assert!(!api["MethodSettings"][0]["ThrottlingBurstLimit"].is_null());
    let plan = &t["Resources"]["UsagePlan"]["Properties"];
    assert_eq!(plan["Quota"]["Period"].as_str(), Some("DAY"));
    assert!(!plan["Throttle"]["RateLimit"].is_null() && !plan["Throttle"]["BurstLimit"].is_null());
}

#[test]
fn the_local_limits_default_to_the_deployed_ones() {
    let t = template();
    let default = |name: &str| {
        t["Parameters"][name]["Default"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has a numeric default"))
    };
    let local = shared::Config::from_lookup(
        <brokerage_store::Brokerage as shared::State>::SERVICE,
        |_| None,
    )
    .unwrap()
    .limits;
    assert_eq!(
        local,
        shared::Limits {
            key_rate: default("UsagePlanRateLimit"),
            key_burst: default("UsagePlanBurstLimit"),
            daily_quota: default("UsagePlanDailyQuota"),
            stage_rate: default("StageRateLimit"),
            stage_burst: default("StageBurstLimit"),
        }
    );
}
