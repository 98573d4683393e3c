fn main() -> Result<(), lambda_http::Error> {
    shared::run(report::handle)
}
