#!/usr/bin/env bats
# 21-http1: the HTTP/1.1 request parser, its input before a PROT_NONE page.

load helpers/lib

@test "http1: valid heads parse, malformed ones are refused with a reason" {
	run -0 http1_test
	[[ "$output" == *"ok a simple GET"* ]]
	[[ "$output" == *"ok obs-fold"* ]]
	[[ "$output" == *"ok Content-Length and Transfer-Encoding"* ]]
	[[ "$output" == *"ok 20000 mutations"* ]]
	[[ "${lines[-1]}" =~ ^http1_test:\ [0-9]+\ checks,\ 0\ failed$ ]]
}
