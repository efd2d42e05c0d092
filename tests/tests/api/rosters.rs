//! Rosters over HTTP: `oncall?at=` agrees with the on-call module and with the shift listing at every
//! sampled instant; overrides win and may not overlap; history; follow-the-sun.

use chrono::{DateTime, Duration, Utc};
use nightowl_tests::{TestApp, TestTenant, error_code, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn user(app: &TestApp, t: &TestTenant, name: &str) -> String {
    let (s, u) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/users")
            .json(&json!({
                "email": format!("{}@acme.example", name.chars().filter(char::is_ascii_alphanumeric).collect::<String>()),
        "display_name": name, "role": "engineer"
            })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

async fn roster(app: &TestApp, t: &TestTenant, body: Value, members: &[&str]) -> String {
    let (s, r) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/rosters")
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    let (s, r) = send(
        app.as_key(
            &t.admin_key,
            Method::PUT,
            &format!("/api/v1/rosters/{id}/members"),
        )
        .json(&json!({"user_ids": members})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    id
}

async fn oncall(app: &TestApp, t: &TestTenant, id: &str, at: DateTime<Utc>) -> Value {
    let path = format!("/api/v1/rosters/{id}/oncall");
    let (s, body) = send(
        app.as_key(&t.admin_key, Method::GET, &path)
            .query(&[("at", at.to_rfc3339())]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

async fn shifts_between(
    app: &TestApp,
    t: &TestTenant,
    id: &str,
    from: &str,
    until: &str,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/rosters/{id}/shifts");
    send(
        app.as_key(&t.admin_key, Method::GET, &path)
            .query(&[("from", from), ("until", until)]),
    )
    .await
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[tokio::test]
async fn oncall_at_agrees_with_the_shift_listing_across_a_dst_change_and_overrides_win() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (ann, ben, cid) = (
        user(&app, &t, "ann").await,
        user(&app, &t, "ben").await,
        user(&app, &t, "cid").await,
    );
    let id = roster(
        &app,
        &t,
        json!({"name": "core", "timezone": "Europe/Berlin", "rotation_type": "daily",
        "handoff_time": "02:30:00", "start_date": "2026-03-20"}),
        &[&ann, &ben],
    )
    .await;

    let (_, shifts) = shifts_between(&app, &t, &id, "2026-03-25T00:00:00Z", "2026-04-02T00:00:00Z").await;
    let shifts = shifts.as_array().unwrap().clone();
    assert_eq!(shifts.len(), 9);
    // The spring-forward day (02:30 does not exist) hands off at 01:00Z, the first instant after the gap.
    assert!(
        shifts.iter().any(|s| s["starts_at"] == "2026-03-29T01:00:00Z"),
        "{shifts:?}"
    );
    for s in &shifts {
        let start = utc(s["starts_at"].as_str().unwrap());
        let end = utc(s["ends_at"].as_str().unwrap());
        for at in [start, start + (end - start) / 2, end - Duration::seconds(1)] {
            let now = oncall(&app, &t, &id, at).await;
            assert_eq!(now["primary"]["user_id"], s["primary"]["user_id"], "at {at}");
            assert_eq!(now["secondary"]["user_id"], s["secondary"]["user_id"], "at {at}");
            assert_eq!(now["shift_start"], s["starts_at"]);
        }
    }

    // An override beats the rotation; an overlapping one is refused.
    let over = json!({"user_id": cid, "starts_at": "2026-03-30T10:00:00Z", "ends_at": "2026-03-30T14:00:00Z", "reason": "swap"});
    let (s, created) = send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/rosters/{id}/overrides"),
        )
        .json(&over),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let during = oncall(&app, &t, &id, utc("2026-03-30T12:00:00Z")).await;
    assert_eq!(
        (
            during["primary"]["display_name"].as_str(),
            during["override_active"].as_str()
        ),
        (Some("cid"), created["id"].as_str())
    );
    let after = oncall(&app, &t, &id, utc("2026-03-30T14:00:00Z")).await;
    assert_ne!(after["primary"]["display_name"], "cid");
    let clash =
        json!({"user_id": ann, "starts_at": "2026-03-30T13:00:00Z", "ends_at": "2026-03-30T15:00:00Z"});
    let (s, err) = send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/rosters/{id}/overrides"),
        )
        .json(&clash),
    )
    .await;
    assert_eq!((s, error_code(&err)), (StatusCode::CONFLICT, "override_overlap"));

    // Before the roster starts nobody is on call.
    let before = oncall(&app, &t, &id, utc("2026-03-19T00:00:00Z")).await;
    assert_eq!(before["primary"], Value::Null);

    // History: the last completed shifts, newest first, consistent with oncall.
    app.clock.set(utc("2026-04-01T12:00:00Z"));
    let (_, history) = send(app.as_key(
        &t.admin_key,
        Method::GET,
        &format!("/api/v1/rosters/{id}/oncall/history"),
    ))
    .await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 10);
    let newest = &history[0];
    assert_eq!(
        newest["ends_at"],
        oncall(&app, &t, &id, utc("2026-04-01T12:00:00Z")).await["shift_start"]
    );
    for h in history {
        let at = utc(h["starts_at"].as_str().unwrap()) + Duration::minutes(1);
        if at >= utc("2026-03-20T00:00:00Z")
            && (at < utc("2026-03-30T10:00:00Z") || at >= utc("2026-03-30T14:00:00Z"))
        {
            assert_eq!(
                oncall(&app, &t, &id, at).await["primary"]["user_id"],
                h["primary"]["user_id"]
            );
        }
    }
}

#[tokio::test]
async fn follow_the_sun_switches_between_the_linked_rosters_at_both_handoffs() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (eu, us) = (user(&app, &t, "eu").await, user(&app, &t, "us").await);
    let america = roster(
        &app,
        &t,
        json!({"name": "americas", "timezone": "America/Los_Angeles", "rotation_type": "daily",
        "handoff_time": "08:00:00", "start_date": "2026-01-01"}),
        &[&us],
    )
    .await;
    let europe = roster(&app, &t, json!({"name": "europe", "timezone": "Europe/Berlin", "rotation_type": "daily",
        "handoff_time": "08:00:00", "start_date": "2026-01-01", "is_follow_the_sun": true, "linked_roster_id": america}), &[&eu]).await;
    for (at, who, active) in [
        ("2026-01-15T06:59:00Z", &us, &america),
        ("2026-01-15T07:00:00Z", &eu, &europe),
        ("2026-01-15T15:59:00Z", &eu, &europe),
        ("2026-01-15T16:00:00Z", &us, &america),
    ] {
        let now = oncall(&app, &t, &europe, utc(at)).await;
        assert_eq!(now["primary"]["user_id"], who.as_str(), "{at}");
        assert_eq!(now["active_roster_id"], active.as_str(), "{at}");
    }
}

/// Parses an iCalendar text with Python's `icalendar` library (a real, independent parser) and returns
/// the events as JSON.
fn parse_with_python(ics: &str) -> Vec<Value> {
    let script = r#"
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
events = []
for e in cal.walk('VEVENT'):
    events.append({
        'uid': str(e['UID']),
        'start': e.decoded('DTSTART').isoformat(),
        'end': e.decoded('DTEND').isoformat(),
        'summary': str(e['SUMMARY']),
        'stamp': e.decoded('DTSTAMP').isoformat(),
    })
print(json.dumps({'version': str(cal['VERSION']), 'events': events}))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(ics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python icalendar could not parse the feed (pip install icalendar)"
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["version"], "2.0");
    parsed["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_ical_feed_parses_with_a_real_library_and_equals_the_shifts() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (ann, ben) = (
        user(&app, &t, "ann; \"the, on-call\\hero\"").await,
        user(&app, &t, "ben").await,
    );
    let id = roster(
        &app,
        &t,
        json!({"name": "core, EU; night", "timezone": "Europe/Berlin", "rotation_type": "daily",
        "handoff_time": "09:00:00", "start_date": "2026-03-01"}),
        &[&ann, &ben],
    )
    .await;
    app.clock.set(utc("2026-03-20T12:00:00Z"));
    let over = json!({"user_id": ben, "starts_at": "2026-03-30T10:00:00Z", "ends_at": "2026-03-30T14:00:00Z", "reason": "dentist, sorry"});
    send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/rosters/{id}/overrides"),
        )
        .json(&over),
    )
    .await;

    // Subscribable with a read-only key in the URL; other keys are refused there.
    let (_, key) = send(
        app.as_key(&t.admin_key, Method::POST, "/api/v1/admin/api-keys")
            .json(&json!({"name": "calendar", "role": "readonly", "scopes": ["read"]})),
    )
    .await;
    let feed = format!(
        "{}/api/v1/rosters/{id}/export.ics?key={}",
        app.base,
        key["key"].as_str().unwrap()
    );
    let response = app.http.get(&feed).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = response.text().await.unwrap();
    assert!(
        ics.lines().all(|l| l.len() <= 75),
        "lines are folded at 75 octets"
    );
    let refused = app
        .http
        .get(format!(
            "{}/api/v1/rosters/{id}/export.ics?key={}",
            app.base, t.admin_key
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let events = parse_with_python(&ics);
    let (_, shifts) = shifts_between(&app, &t, &id, "2026-03-13T12:00:00Z", "2026-04-24T12:00:00Z").await;
    let shifts = shifts.as_array().unwrap();
    let shift_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["uid"].as_str().unwrap().starts_with("shift-"))
        .collect();
    assert_eq!(shift_events.len(), shifts.len());
    for (e, s) in shift_events.iter().zip(shifts) {
        assert_eq!(
            utc(e["start"].as_str().unwrap()),
            utc(s["starts_at"].as_str().unwrap())
        );
        assert_eq!(
            utc(e["end"].as_str().unwrap()),
            utc(s["ends_at"].as_str().unwrap())
        );
        let primary = s["primary"]["display_name"].as_str().unwrap();
        assert_eq!(
            e["summary"],
            format!("On call: {primary} (core, EU; night)"),
            "text survives escaping"
        );
        assert_eq!(utc(e["stamp"].as_str().unwrap()), utc("2026-03-20T12:00:00Z"));
    }
    let overrides: Vec<&Value> = events
        .iter()
        .filter(|e| e["uid"].as_str().unwrap().starts_with("override-"))
        .collect();
    assert_eq!(overrides.len(), 1);
    assert_eq!(
        utc(overrides[0]["start"].as_str().unwrap()),
        utc("2026-03-30T10:00:00Z")
    );

    // UIDs are stable: the same feed later keeps the ids of the shifts it still shows.
    app.clock.set(utc("2026-03-21T12:00:00Z"));
    let later = parse_with_python(&app.http.get(&feed).send().await.unwrap().text().await.unwrap());
    let uid_of = |events: &[Value], start: &str| {
        events
            .iter()
            .find(|e| e["start"] == start)
            .map(|e| e["uid"].clone())
    };
    let some_start = shift_events[10]["start"].as_str().unwrap().to_owned();
    assert_eq!(uid_of(&events, &some_start), uid_of(&later, &some_start));
}

#[tokio::test]
async fn leave_takes_a_member_out_of_the_rotation_and_may_overlap_other_peoples_leave() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (ann, bo, cid) = (
        user(&app, &t, "ann").await,
        user(&app, &t, "bo").await,
        user(&app, &t, "cid").await,
    );
    let body = json!({"name": "leave", "timezone": "UTC", "rotation_type": "daily",
                      "handoff_time": "09:00:00", "start_date": "2026-06-01"});
    let id = roster(&app, &t, body, &[&ann, &bo, &cid]).await;
    let at = utc("2026-06-03T12:00:00Z");
    let before = oncall(&app, &t, &id, at).await;
    let primary = before["primary"]["user_id"].as_str().unwrap().to_owned();
    let secondary = before["secondary"]["user_id"].as_str().unwrap().to_owned();
    let post = |body: Value| {
        let (app, t, id) = (&app, &t, &id);
        async move {
            send(
                app.as_key(
                    &t.admin_key,
                    Method::POST,
                    &format!("/api/v1/rosters/{id}/overrides"),
                )
                .json(&body),
            )
            .await
        }
    };
    let (s, leave) = post(json!({"user_id": primary, "kind": "leave", "reason": "holiday",
        "starts_at": "2026-06-02T00:00:00Z", "ends_at": "2026-06-06T00:00:00Z"}))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{leave}");
    assert_eq!(leave["kind"], "leave");
    let during = oncall(&app, &t, &id, at).await;
    assert_eq!(
        during["primary"]["user_id"],
        secondary.as_str(),
        "the next member steps up"
    );
    assert_ne!(during["secondary"]["user_id"], primary.as_str());
    assert!(during["override_active"].is_null());
    // On 6 June (shift 5) the leave is over: the rotation's own primary is back.
    let (_, shifts) = shifts_between(&app, &t, &id, "2026-06-06T12:00:00Z", "2026-06-06T13:00:00Z").await;
    assert_eq!(
        oncall(&app, &t, &id, utc("2026-06-06T12:00:00Z")).await["primary"]["user_id"],
        shifts[0]["primary"]["user_id"]
    );

    // Someone else's leave may overlap; the same person's may not.
    let other = [&ann, &bo, &cid]
        .into_iter()
        .find(|u| **u != primary && **u != secondary)
        .unwrap();
    let (s, _) = post(json!({"user_id": other, "kind": "leave",
        "starts_at": "2026-06-03T00:00:00Z", "ends_at": "2026-06-04T00:00:00Z"}))
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, err) = post(json!({"user_id": primary, "kind": "leave",
        "starts_at": "2026-06-05T00:00:00Z", "ends_at": "2026-06-07T00:00:00Z"}))
    .await;
    assert_eq!((s, error_code(&err)), (StatusCode::CONFLICT, "override_overlap"));
    let (s, err) = post(json!({"user_id": primary, "kind": "vacation",
        "starts_at": "2026-07-05T00:00:00Z", "ends_at": "2026-07-07T00:00:00Z"}))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");

    // A cover during the leave still wins.
    let (s, cover) = post(json!({"user_id": primary, "starts_at": "2026-06-03T10:00:00Z",
        "ends_at": "2026-06-03T14:00:00Z", "reason": "back for the release"}))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cover}");
    let covered = oncall(&app, &t, &id, at).await;
    assert_eq!(covered["primary"]["user_id"], primary.as_str());
    assert_eq!(covered["override_active"], cover["id"]);
}

#[tokio::test]
async fn the_calendar_lays_out_days_in_any_zone_with_the_shifts_oncall_and_overrides_agree_on() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (a, b, c, d) = (
        user(&app, &t, "Ada").await,
        user(&app, &t, "Bo").await,
        user(&app, &t, "Cy").await,
        user(&app, &t, "Di").await,
    );
    let id = roster(
        &app,
        &t,
        json!({"name": "spring", "timezone": "Europe/Berlin", "rotation_type": "daily",
               "handoff_time": "09:00:00", "start_date": "2027-03-20"}),
        &[&a, &b, &c],
    )
    .await;
    // Di covers 12:00–15:00 Berlin on the 28th (10:00–13:00Z, summer time).
    let (s, cover) = send(
        app.as_key(
            &t.admin_key,
            Method::POST,
            &format!("/api/v1/rosters/{id}/overrides"),
        )
        .json(&json!({"user_id": d, "starts_at": "2027-03-28T10:00:00Z", "ends_at": "2027-03-28T13:00:00Z"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cover}");
    let calendar = |query: &'static str| {
        let path = format!("/api/v1/rosters/{id}/calendar?{query}");
        let request = app.as_key(&t.admin_key, Method::GET, &path);
        async move { send(request).await }
    };

    let (s, cal) = calendar("start=2027-03-26&days=5").await;
    assert_eq!(s, StatusCode::OK, "{cal}");
    assert_eq!(cal["timezone"], "Europe/Berlin");
    let days = cal["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        [
            "2027-03-26",
            "2027-03-27",
            "2027-03-28",
            "2027-03-29",
            "2027-03-30"
        ]
    );
    let hours: Vec<i64> = days.iter().map(|d| d["hours"].as_i64().unwrap()).collect();
    assert_eq!(hours, [24, 24, 23, 24, 24], "the clocks go forward on the 28th");
    // The shift handed off on the 27th runs into summer time: 23 hours.
    let minutes: Vec<i64> = days
        .iter()
        .map(|d| d["handoffs"][0]["minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, [1440, 1380, 1440, 1440, 1440]);
    assert!(days.iter().all(|d| d["handoffs"][0]["at"] == "09:00"));

    // Each day's handoff names who the shift listing names for the shift starting that day.
    let (_, shifts) = shifts_between(&app, &t, &id, "2027-03-25T23:00:00Z", "2027-03-30T22:00:00Z").await;
    let listed: Vec<(String, String)> = shifts
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["starts_at"].as_str().unwrap() >= "2027-03-25T23:00:00Z")
        .map(|s| {
            (
                s["starts_at"].as_str().unwrap().to_owned(),
                s["primary"]["display_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let shown: Vec<(String, String)> = days
        .iter()
        .map(|d| {
            let h = &d["handoffs"][0];
            let at = utc(h["starts_at"].as_str().unwrap()).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            (at, h["primary"]["display_name"].as_str().unwrap().to_owned())
        })
        .collect();
    let listed: Vec<(String, String)> = listed
        .into_iter()
        .map(|(at, who)| (utc(&at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true), who))
        .collect();
    assert_eq!(shown, listed);

    // The final schedule of the 28th: every segment's primary is what oncall?at= answers inside it,
    // the cover shows with its id, and the segments tile the day.
    let day = &days[2];
    let segments = day["segments"].as_array().unwrap();
    assert_eq!(segments.first().unwrap()["from"], "00:00");
    assert_eq!(segments.last().unwrap()["to"], "24:00");
    for pair in segments.windows(2) {
        assert_eq!(pair[0]["ends_at"], pair[1]["starts_at"]);
    }
    for segment in segments {
        let start = utc(segment["starts_at"].as_str().unwrap());
        let answer = oncall(&app, &t, &id, start).await;
        assert_eq!(
            segment["primary"]["user_id"], answer["primary"]["user_id"],
            "{segment}"
        );
        assert_eq!(segment["override_id"], answer["override_active"], "{segment}");
    }
    let covered: Vec<(&str, &str, &str)> = segments
        .iter()
        .filter(|s| !s["override_id"].is_null())
        .map(|s| {
            (
                s["from"].as_str().unwrap(),
                s["to"].as_str().unwrap(),
                s["primary"]["display_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(covered, [("12:00", "15:00", "Di")]);
    assert_eq!(day["overrides"][0]["id"], cover["id"]);
    assert_eq!(day["overrides"][0]["person"]["display_name"], "Di");

    // The same days laid out in New York: other local dates and times, the same instants.
    let (s, ny) = calendar("start=2027-03-28&days=1&tz=America/New_York").await;
    assert_eq!(s, StatusCode::OK, "{ny}");
    assert_eq!(ny["timezone"], "America/New_York");
    assert_eq!(ny["days"][0]["hours"], 24, "New York changed two weeks earlier");
    assert_eq!(ny["days"][0]["handoffs"][0]["at"], "03:00");
    let covered_ny: Vec<&Value> = ny["days"][0]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["override_id"].is_null())
        .collect();
    assert_eq!(
        (covered_ny[0]["from"].as_str(), covered_ny[0]["to"].as_str()),
        (Some("06:00"), Some("09:00"))
    );

    for (query, code) in [
        ("tz=Mars/Olympus", "invalid_timezone"),
        ("days=0", "invalid_window"),
        ("days=63", "invalid_window"),
    ] {
        let (s, err) = calendar(query).await;
        assert_eq!((s, error_code(&err)), (StatusCode::BAD_REQUEST, code), "{query}");
    }
}
