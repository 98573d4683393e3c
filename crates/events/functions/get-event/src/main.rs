fn main() -> Result<(), lambda_http::Error> {
    shared::run(get_event::handle)
}
