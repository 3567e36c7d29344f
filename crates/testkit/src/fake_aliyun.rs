//! A local fake of Alibaba Cloud SMS that speaks its protocol, for tests.
