fn main() -> Result<(), lambda_http::Error> {
    shared::run(graphql::handle)
}
