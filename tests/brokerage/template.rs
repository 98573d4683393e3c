//! template.yaml read as a reviewer would: each function may call exactly the DynamoDB
//! actions its code calls, on the table's ARN only; every method needs a key; the local
//! limits are the deployed ones.

use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};

fn template() -> Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn each_function_may_call_only_the_dynamodb_actions_it_uses_on_the_table() {
    let expected: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
        (
            "CreateAccountFunction",
            BTreeSet::from([
                "dynamodb:UpdateItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ]),
        ),
        (
            "PlaceOrderFunction",
            BTreeSet::from([
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "dynamodb:PutItem",
                "dynamodb:ConditionCheckItem",
            ]),
        ),
        ("GetAccountFunction", BTreeSet::from(["dynamodb:GetItem"])),
        (
            "ListOrdersFunction",
            BTreeSet::from(["dynamodb:Query", "dynamodb:GetItem"]),
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
        let mut actions = BTreeSet::new();
        for s in statements {
            assert_eq!(s["Effect"].as_str(), Some("Allow"), "{name}");
            let resource = format!("{:?}", s["Resource"]);
            assert!(
                resource.contains("GetAtt") && resource.contains("Table.Arn"),
                "{name}: {resource}"
            );
            for a in s["Action"].as_sequence().expect("a list of actions") {
                let a = a.as_str().unwrap();
                assert!(!a.contains('*'), "{name}: wildcard {a}");
                actions.insert(a);
            }
        }
        assert_eq!(&actions, want, "{name}");
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
