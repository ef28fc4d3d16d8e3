// Package notify is the vocabulary of what a sentinel tells the outside
// world about its events: events and their levels, and the command lines of
// the notification and client-reconfig scripts. It is pure; package
// notify/script runs the scripts and notify/webhook posts the webhooks.
package notify
