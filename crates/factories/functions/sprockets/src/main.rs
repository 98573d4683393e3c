fn main() -> Result<(), lambda_http::Error> {
    shared::run(sprockets::handle)
}
