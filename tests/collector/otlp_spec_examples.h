#pragma once

// Examples published with the OpenTelemetry protocol (opentelemetry-proto/examples), verbatim.
// Kept out of the test's .cpp because moc does not lex raw strings holding "//" or quotes.
namespace idl::collectortest {

// The logs example of opentelemetry-proto (examples/logs.json), verbatim.
inline const char *kSpecLogsExample = R"({
  "resourceLogs": [
    {
      "resource": {
        "attributes": [
          {
            "key": "service.name",
            "value": {
              "stringValue": "my.service"
            }
          }
        ]
      },
      "scopeLogs": [
        {
          "scope": {
            "name": "my.library",
            "version": "1.0.0",
            "attributes": [
              {
                "key": "my.scope.attribute",
                "value": {
                  "stringValue": "some scope attribute"
                }
              }
            ]
          },
          "logRecords": [
            {
              "timeUnixNano": 1544712660300000000,
              "observedTimeUnixNano": 1544712660300000000,
              "severityText": "Information",
              "traceId": "5B8EFFF798038103D269B633813FC60C",
              "spanId": "EEE19B7EC3C1B174",
              "body": {
                "stringValue": "Example log record"
              },
              "attributes": [
                {
                  "key": "string.attribute",
                  "value": {
                    "stringValue": "some string"
                  }
                },
                {
                  "key": "boolean.attribute",
                  "value": {
                    "boolValue": true
                  }
                },
                {
                  "key": "int.attribute",
                  "value": {
                    "intValue": 10
                  }
                },
                {
                  "key": "double.attribute",
                  "value": {
                    "doubleValue": 637.704
                  }
                },
                {
                  "key": "array.attribute",
                  "value": {
                    "arrayValue": {
                      "values": [
                        {
                          "stringValue": "many"
                        },
                        {
                          "stringValue": "values"
                        }
                      ]
                    }
                  }
                },
                {
                  "key": "map.attribute",
                  "value": {
                    "kvlistValue": {
                      "values": [
                        {
                          "key": "some.map.key",
                          "value": {
                            "stringValue": "some value"
                          }
                        }
                      ]
                    }
                  }
                }
              ]
            }
          ]
        }
      ]
    }
  ]
})";

// The events example of opentelemetry-proto (examples/events.json), verbatim: its body is a
// kvlistValue written as a bare array.
inline const char *kSpecEventsExample = R"({
    "resourceLogs": [
      {
        "resource": {
          "attributes": [
            {
              "key": "service.name",
              "value": {
                "stringValue": "my.service"
              }
            }
          ]
        },
        "scopeLogs": [
          {
            "scope": {
              "name": "my.library",
              "version": "1.0.0",
              "attributes": [
                {
                  "key": "my.scope.attribute",
                  "value": {
                    "stringValue": "some scope attribute"
                  }
                }
              ]
            },
            "logRecords": [
              {
                "timeUnixNano": "1544712660300000000",
                "observedTimeUnixNano": "1544712660300000000",
                "severityNumber": 9,
                "attributes": [
                    {
                      "key": "event.name",
                      "value": {
                        "stringValue": "browser.page_view"
                      }
                    }
                ],
                "body": {
                    "kvlistValue": [
                        {
                            "key": "type",
                            "value": {
                            "intValue": "0"
                            }
                        },
                        {
                            "key": "url",
                            "value": {
                            "stringValue": "https://www.guidgenerator.com/online-guid-generator.aspx"
                            }
                        },
                        {
                            "key": "referrer",
                            "value": {
                            "stringValue": "https://wwww.google.com"
                            }
                        },
                        {
                            "key": "title",
                            "value": {
                            "stringValue": "Free Online GUID Generator"
                            }
                        }
                    ]
                }
              }
            ]
          }
        ]
      }
    ]
  })";

} // namespace idl::collectortest
