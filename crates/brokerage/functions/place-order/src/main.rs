fn main() -> Result<(), lambda_http::Error> {
    shared::run(place_order::handle)
}
