//! Each business rule on its own, then properties over random order sequences.

use brokerage_domain::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use shared::{Field, MarketHours};

// 2019-10-17 10:20:25 in Mexico City: inside market hours.
const OPEN_TS: i64 = 1_571_325_625;
// 2020-03-04 16:57:25 in Mexico City: after the close.
const CLOSED_TS: i64 = 1_583_362_645;

fn cash(s: &str) -> Cash {
    Cash::parse(&Field::Number(s.into())).unwrap()
}

fn order(op: Operation, issuer: &str, shares: u64, price: &str, ts: i64) -> Order {
    Order {
        timestamp: ts,
        operation: op,
        issuer: IssuerName::new(issuer).unwrap(),
        shares: Shares::new(shares).unwrap(),
        price: Price::parse(&Field::Number(price.into())).unwrap(),
    }
}

fn account(c: &str) -> Account {
    Account::open(AccountId(1), Owner("t".into()), cash(c))
}

fn accept(d: Decision) -> Account {
    match d {
        Decision::Accept(a) => a,
        Decision::Reject(e) => panic!("rejected: {e:?}"),
    }
}

fn reject(d: Decision) -> Vec<BusinessError> {
    match d {
        Decision::Reject(e) => e,
        Decision::Accept(a) => panic!("accepted: {a:?}"),
    }
}

#[test]
fn the_challenge_example_buys_two_apple_shares() {
    let m = MarketHours::default();
    let next = accept(evaluate(
        &order(Operation::Buy, "AAPL", 2, "50", OPEN_TS),
        &account("1000"),
        &[],
        &m,
    ));
    assert_eq!(
        serde_json::to_string(&next.balance()).unwrap(),
        r#"{"cash":900,"issuers":[{"issuer_name":"AAPL","total_shares":2,"share_price":50}]}"#
    );
    assert_eq!(next.version, 1);
}

#[test]
fn buy_with_exactly_enough_cash_is_accepted() {
    let m = MarketHours::default();
    let next = accept(evaluate(
        &order(Operation::Buy, "X", 1, "1000.50", OPEN_TS),
        &account("1000.50"),
        &[],
        &m,
    ));
    assert_eq!(next.cash, Cash::ZERO);
}

#[test]
fn buy_over_the_cash_is_insufficient_balance_and_changes_nothing() {
    let m = MarketHours::default();
    let errors = reject(evaluate(
        &order(Operation::Buy, "X", 3, "400", OPEN_TS),
        &account("1000"),
        &[],
        &m,
    ));
    assert_eq!(errors, vec![BusinessError::InsufficientBalance]);
}

#[test]
fn selling_unheld_shares_is_insufficient_stocks() {
    let m = MarketHours::default();
    let errors = reject(evaluate(
        &order(Operation::Sell, "X", 1, "1", OPEN_TS),
        &account("10"),
        &[],
        &m,
    ));
    assert_eq!(errors, vec![BusinessError::InsufficientStocks]);
}

#[test]
fn selling_exactly_all_shares_removes_the_holding() {
    let m = MarketHours::default();
    let a = accept(evaluate(
        &order(Operation::Buy, "X", 5, "2", OPEN_TS),
        &account("10"),
        &[],
        &m,
    ));
    let b = accept(evaluate(
        &order(Operation::Sell, "X", 5, "3", OPEN_TS + 600),
        &a,
        &[],
        &m,
    ));
    assert!(b.holdings.is_empty());
    assert_eq!(b.cash, cash("15"));
}

#[test]
fn the_holding_price_is_the_last_accepted_orders_price() {
    let m = MarketHours::default();
    let a = accept(evaluate(
        &order(Operation::Buy, "X", 5, "2", OPEN_TS),
        &account("100"),
        &[],
        &m,
    ));
    let b = accept(evaluate(
        &order(Operation::Sell, "X", 1, "7.25", OPEN_TS + 600),
        &a,
        &[],
        &m,
    ));
    let h = b.holdings[&IssuerName::new("X").unwrap()];
    assert_eq!((h.shares, h.price.value()), (4, Decimal::new(725, 2)));
}

#[test]
fn a_closed_market_order_lists_every_violation_in_order() {
    let m = MarketHours::default();
    let o = order(Operation::Buy, "X", 1, "5000", CLOSED_TS);
    let errors = reject(evaluate(&o, &account("10"), &[CLOSED_TS - 10], &m));
    assert_eq!(
        errors,
        vec![
            BusinessError::ClosedMarket,
            BusinessError::DuplicatedOperation,
            BusinessError::InsufficientBalance
        ]
    );
}

#[test]
fn duplicates_count_before_and_after_within_299_seconds() {
    let m = MarketHours::default();
    let o = order(Operation::Buy, "X", 1, "1", OPEN_TS);
    for near in [OPEN_TS - 299, OPEN_TS, OPEN_TS + 299] {
        assert_eq!(
            reject(evaluate(&o, &account("10"), &[near], &m)),
            vec![BusinessError::DuplicatedOperation]
        );
    }
    for far in [OPEN_TS - 300, OPEN_TS + 300] {
        accept(evaluate(&o, &account("10"), &[far], &m));
    }
}

#[test]
fn error_codes_are_screaming_snake_case_on_the_wire() {
    let all = [
        BusinessError::InvalidOperation,
        BusinessError::ClosedMarket,
        BusinessError::DuplicatedOperation,
        BusinessError::InsufficientBalance,
        BusinessError::InsufficientStocks,
    ];
    assert_eq!(
        serde_json::to_string(&all).unwrap(),
        r#"["INVALID_OPERATION","CLOSED_MARKET","DUPLICATED_OPERATION","INSUFFICIENT_BALANCE","INSUFFICIENT_STOCKS"]"#
    );
}

#[test]
fn a_sell_that_would_pass_the_cash_ceiling_is_invalid_not_accepted() {
    let m = MarketHours::default();
    let mut rich = account("0");
    rich.cash = Cash::from_stored(Decimal::from(999_999_999_999_999_999_i64));
    rich.holdings.insert(
        IssuerName::new("X").unwrap(),
        Holding {
            shares: 10,
            price: Price::from_stored(Decimal::ONE),
        },
    );
    let errors = reject(evaluate(
        &order(Operation::Sell, "X", 10, "1", OPEN_TS),
        &rich,
        &[],
        &m,
    ));
    assert_eq!(errors, vec![BusinessError::InvalidOperation]);
}

/// A random order stream replayed through `evaluate`, tracking accepted orders as a ledger.
fn arb_order() -> impl Strategy<Value = Order> {
    (
        prop::bool::ANY,
        prop::sample::select(vec!["A", "B", "C"]),
        1u64..20,
        1i64..100_000_000, // price in millionths: 0.000001 .. 100
        0i64..20_000,
    )
        .prop_map(|(buy, issuer, shares, micros, dt)| Order {
            timestamp: OPEN_TS + dt,
            operation: if buy { Operation::Buy } else { Operation::Sell },
            issuer: IssuerName::new(issuer).unwrap(),
            shares: Shares::new(shares).unwrap(),
            price: Price::from_stored(Decimal::new(micros, 6)),
        })
}

proptest! {
    #[test]
    fn cash_and_shares_are_conserved_and_never_negative(
        initial in 0i64..10_000_000, // cents: up to 100,000.00
        orders in prop::collection::vec(arb_order(), 1..200),
    ) {
        let m = MarketHours::parse("UTC", "00:00", "23:59", "").unwrap();
        let start = Cash::from_stored(Decimal::new(initial, 2));
        let mut acc = Account::open(AccountId(1), Owner("t".into()), start);
        let mut ledger: Vec<Order> = Vec::new();
        for o in orders {
            let same: Vec<i64> = ledger.iter().filter(|l| l.dedup_key() == o.dedup_key()).map(|l| l.timestamp).collect();
            if let Decision::Accept(next) = evaluate(&o, &acc, &same, &m) {
                prop_assert_eq!(next.version, acc.version + 1);
                acc = next;
                ledger.push(o);
            }
            prop_assert!(acc.cash.value() >= Decimal::ZERO);
        }
        let mut expected = start.value();
        for o in &ledger {
            match o.operation {
                Operation::Buy => expected -= o.amount().value(),
                Operation::Sell => expected += o.amount().value(),
            }
        }
        prop_assert_eq!(acc.cash.value(), expected);
        for issuer in ["A", "B", "C"] {
            let name = IssuerName::new(issuer).unwrap();
            let net: i64 = ledger.iter().filter(|o| o.issuer == name).map(|o| match o.operation {
                Operation::Buy => o.shares.get() as i64,
                Operation::Sell => -(o.shares.get() as i64),
            }).sum();
            prop_assert!(net >= 0);
            prop_assert_eq!(acc.shares_of(&name) as i64, net);
            prop_assert!(acc.holdings.get(&name).is_none_or(|h| h.shares > 0));
        }
    }

    #[test]
    fn no_two_accepted_orders_with_one_key_lie_within_the_window(
        orders in prop::collection::vec(arb_order(), 1..200),
    ) {
        let m = MarketHours::parse("UTC", "00:00", "23:59", "").unwrap();
        let mut acc = Account::open(AccountId(1), Owner("t".into()), Cash::from_stored(Decimal::from(1_000_000_000)));
        let mut ledger: Vec<Order> = Vec::new();
        for o in orders {
            let same: Vec<i64> = ledger.iter().filter(|l| l.dedup_key() == o.dedup_key()).map(|l| l.timestamp).collect();
            let was_duplicate = same.iter().any(|&t| (t - o.timestamp).abs() < 300);
            match evaluate(&o, &acc, &same, &m) {
                Decision::Accept(next) => { prop_assert!(!was_duplicate); acc = next; ledger.push(o); }
                Decision::Reject(errors) => prop_assert_eq!(was_duplicate, errors.contains(&BusinessError::DuplicatedOperation)),
            }
        }
        for (i, a) in ledger.iter().enumerate() {
            for b in &ledger[i + 1..] {
                prop_assert!(a.dedup_key() != b.dedup_key() || (a.timestamp - b.timestamp).abs() >= 300);
            }
        }
    }

    #[test]
    fn a_rejected_order_reports_what_an_accepted_one_would_break(o in arb_order(), c in 0i64..1000) {
        let m = MarketHours::parse("UTC", "00:00", "23:59", "").unwrap();
        let acc = Account::open(AccountId(1), Owner("t".into()), Cash::from_stored(Decimal::from(c)));
        match evaluate(&o, &acc, &[], &m) {
            Decision::Accept(next) => prop_assert!(next.cash.value() >= Decimal::ZERO),
            Decision::Reject(errors) => prop_assert!(
                errors == vec![BusinessError::InsufficientBalance] || errors == vec![BusinessError::InsufficientStocks]
            ),
        }
    }
}

#[test]
fn each_business_error_code_is_its_wire_name() {
    use BusinessError::*;
    for e in [
        InvalidOperation,
        ClosedMarket,
        DuplicatedOperation,
        InsufficientBalance,
        InsufficientStocks,
    ] {
        assert_eq!(serde_json::to_value(e).unwrap(), e.code());
    }
}
