//! What the kernel adds to the OpenAPI document: the answers every operation can get
//! from layers below its handler, so the document says what the shop does.
//!
//! A handler declares its own outcomes (`#[utoipa::path(responses(...))]`). Around it,
//! the kernel and the extractors answer on their own: a malformed or oversized body, a
//! stalled upload, a wrong content type, a path value that does not parse, a missing or
//! refused token, a shed request. Declaring those by hand on eighty operations would
//! drift; they follow from the operation's shape, so they are added here, from the same
//! facts the kernel acts on. Every error answer is `application/problem+json`.

use serde_json::{Map, Value, json};

const PROBLEM_REF: &str = "#/components/schemas/Problem";
const PROBLEM_TYPE: &str = "application/problem+json";

/// Why each kernel answer happens, for its description in the document.
fn description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request: unreadable JSON, a path or header value that does not parse",
        "401" => "No valid access token",
        "403" => "The token's account may not do this",
        "404" => "No such resource (or not yours)",
        "408" => "The request body stopped arriving",
        "413" => "The request body is larger than allowed",
        "415" => "The body is not of a content type this operation reads",
        "422" => "One or more fields are invalid; `errors` names each",
        "429" => "Too many attempts; wait `Retry-After` seconds",
        "503" => "The shop is busy or a dependency is down; retry after `Retry-After` seconds",
        _ => "Error",
    }
}

/// Completes every operation of `doc` (the serialised OpenAPI document).
pub(crate) fn document_kernel_answers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        // Parameters may sit on the path item as well as on each operation.
        let shared_params = item.get("parameters").cloned();
        for (method, op) in item.iter_mut() {
            if !matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                continue;
            }
            complete_operation(op, shared_params.as_ref());
        }
    }
}

fn complete_operation(op: &mut Value, shared_params: Option<&Value>) {
    let params: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            shared_params
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .collect();
    let has = |location: &str| params.iter().any(|p| p["in"] == location);
    let (in_path, in_query, in_header) = (has("path"), has("query"), has("header"));
    let has_body = op.get("requestBody").is_some();
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|m| !m.is_empty()))
        });

    let mut added: Vec<&str> = vec!["503"];
    if has_body {
        added.extend(["400", "408", "413", "415", "422"]);
    }
    if in_path || in_header {
        added.push("400");
    }
    if in_path {
        added.push("404");
    }
    if in_query {
        added.extend(["400", "422"]);
    }
    if secured {
        added.extend(["401", "403"]);
    }

    let Some(op) = op.as_object_mut() else {
        return;
    };
    let responses = op
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for status in added {
        responses.entry(status).or_insert_with(|| {
            json!({
                "description": description(status),
                "content": {PROBLEM_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
            })
        });
    }
    for (status, response) in responses.iter_mut() {
        problem_content_type(response);
        if status == "429" || status == "503" {
            retry_after_header(response);
        }
    }
}

/// Error bodies are declared with the Problem schema; their media type is problem+json.
fn problem_content_type(response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    let is_problem = content
        .get("application/json")
        .is_some_and(|c| c["schema"]["$ref"] == PROBLEM_REF);
    if is_problem && let Some(schema) = content.remove("application/json") {
        content.insert(PROBLEM_TYPE.to_owned(), schema);
    }
}

fn retry_after_header(response: &mut Value) {
    let Some(response) = response.as_object_mut() else {
        return;
    };
    let headers = response
        .entry("headers")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(headers) = headers.as_object_mut() {
        headers.entry("Retry-After").or_insert_with(|| {
            json!({
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1}
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_gets_the_answers_its_shape_allows() {
        let mut doc = json!({"paths": {"/api/v1/things/{id}": {"patch": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {}}}},
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "ok"},
                "409": {"description": "conflict", "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}}
            }
        }}}});

        document_kernel_answers(&mut doc);

        let responses = &doc["paths"]["/api/v1/things/{id}"]["patch"]["responses"];
        for status in [
            "400", "401", "403", "404", "408", "409", "413", "415", "422", "503",
        ] {
            assert!(
                responses[status]["content"][PROBLEM_TYPE].is_object(),
                "{status}: {responses}"
            );
        }
        assert!(
            responses["409"]["content"]
                .get("application/json")
                .is_none()
        );
        assert!(responses["503"]["headers"]["Retry-After"].is_object());
        assert!(responses["200"].get("content").is_none());
    }

    #[test]
    fn a_public_read_without_parameters_only_gets_the_shed_answer() {
        let mut doc = json!({"paths": {"/api/v1/categories": {"get": {
            "responses": {"200": {"description": "ok"}}
        }}}});

        document_kernel_answers(&mut doc);

        let responses = doc["paths"]["/api/v1/categories"]["get"]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect::<Vec<_>>();
        assert_eq!(responses, ["200", "503"]);
    }
}
