//! Prints the schema as SDL: `cargo run -p graphql --bin catalog-sdl > crates/catalog/schema.graphql`.

fn main() {
    print!("{}", graphql::build(true).sdl());
}
