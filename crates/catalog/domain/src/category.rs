//! One set of categories over both stores: Fake Store's four names and DummyJSON's slugs.

/// The unified category of a store's own category. Slugs without a mapping stay as they are.
pub fn unify(raw: &str) -> String {
    let unified = match raw {
        "electronics" | "laptops" | "smartphones" | "tablets" | "mobile-accessories" => {
            "electronics"
        }
        "jewelery" | "jewelry" | "womens-jewellery" => "jewelry",
        "men's clothing" => "mens-clothing",
        "women's clothing" | "womens-dresses" | "womens-shoes" | "womens-bags"
        | "womens-watches" | "tops" => "womens-clothing",
        other if other.starts_with("mens-") => "mens-clothing",
        other => other,
    };
    unified.to_owned()
}

/// A category as a client writes it, compared as the stores' own would be: any case.
pub fn normalize_query(category: &str) -> String {
    unify(&category.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_stores_map_to_one_set() {
        for (raw, unified) in [
            ("electronics", "electronics"),
            ("laptops", "electronics"),
            ("smartphones", "electronics"),
            ("tablets", "electronics"),
            ("mobile-accessories", "electronics"),
            ("jewelery", "jewelry"),
            ("womens-jewellery", "jewelry"),
            ("men's clothing", "mens-clothing"),
            ("mens-shirts", "mens-clothing"),
            ("mens-shoes", "mens-clothing"),
            ("mens-watches", "mens-clothing"),
            ("women's clothing", "womens-clothing"),
            ("womens-dresses", "womens-clothing"),
            ("womens-shoes", "womens-clothing"),
            ("womens-bags", "womens-clothing"),
            ("womens-watches", "womens-clothing"),
            ("tops", "womens-clothing"),
            ("beauty", "beauty"),
            ("groceries", "groceries"),
        ] {
            assert_eq!(unify(raw), unified, "{raw}");
        }
        assert_eq!(normalize_query(" Jewelery "), "jewelry");
        assert_eq!(normalize_query("ELECTRONICS"), "electronics");
    }
}
