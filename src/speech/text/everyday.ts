// Everyday English from a seeded template grammar (the project's own work, under the project's licence): commands
// to a phone or a smart home, questions, numbers, dates, times, prices and phone numbers spelled out, people's and
// places' names, and conversational sentences. `everydaySentences(n)` returns n distinct sentences, the same for
// the same (n, seed); every one normalises cleanly to the transcript alphabet (vocab.ts).
//
// Splits: a sentence's split is a function of its normalised text alone (`everydaySplit`), so it does not depend
// on how many were generated or in what order, and the same words can never land in two splits.
import type { Split } from '../manifest.ts';
import { hash32, rng } from '../rng.ts';
import { normaliseTranscript } from '../vocab.ts';
import { WEEKDAYS, cardinal, clockTime, date, daysIn, decimal, digits, money, ordinal, year } from './numbers.ts';

type R = () => number;
const p = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: R, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const maybe = (r: R, prob: number, s: string) => (r() < prob ? s : '');
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// Word lists (common words and names; facts, not anyone's text).
const FIRST = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Daniel', 'Nancy',
  'Matthew', 'Lisa', 'Anthony', 'Betty', 'Mark', 'Sandra', 'Steven', 'Ashley', 'Paul', 'Emily', 'Andrew', 'Donna',
  'Joshua', 'Michelle', 'Kevin', 'Carol', 'Brian', 'Amanda', 'George', 'Melissa', 'Timothy', 'Deborah', 'Ronald',
  'Stephanie', 'Jason', 'Rebecca', 'Ryan', 'Laura', 'Jacob', 'Helen', 'Gary', 'Sharon', 'Nicholas', 'Cynthia', 'Eric',
  'Kathleen', 'Jonathan', 'Amy', 'Larry', 'Angela', 'Justin', 'Anna', 'Scott', 'Ruth', 'Brandon', 'Brenda', 'Frank',
  'Pamela', 'Gregory', 'Nicole', 'Samuel', 'Katherine', 'Benjamin', 'Samantha', 'Patrick', 'Christine', 'Jack', 'Emma',
  'Dennis', 'Rachel', 'Jerry', 'Olivia', 'Tyler', 'Maria', 'Aaron', 'Heather', 'Henry', 'Diane', 'Adam', 'Julie',
  'Nathan', 'Joyce', 'Zachary', 'Victoria', 'Kyle', 'Kelly', 'Noah', 'Christina', 'Ethan', 'Lauren', 'Jeremy', 'Joan',
  'Carlos', 'Sofia', 'Luis', 'Isabella', 'Miguel', 'Camila', 'Ahmed', 'Fatima', 'Omar', 'Aisha', 'Raj', 'Priya',
  'Arjun', 'Ananya', 'Wei', 'Mei', 'Chen', 'Yuki', 'Hiroshi', 'Kenji', 'Sakura', 'Ivan', 'Olga', 'Dmitri', 'Elena',
  'Kwame', 'Amara', 'Chidi', 'Zara', 'Liam', 'Mia', 'Lucas', 'Chloe', 'Oliver', 'Grace', 'Leo', 'Ella', 'Max', 'Lily',
  'Sam', 'Alex', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Riley', 'Jamie', 'Robin', 'Toby', 'Hannah', 'Megan', 'Ben',
];
const LAST = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez',
  'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen',
  'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall',
  'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Patel', 'Kim', 'Chen', 'Singh', 'Murphy', 'Cooper',
  'Kowalski', 'Fischer', 'Rossi', "O'Brien", 'Novak', 'Okafor', 'Tanaka', 'Cohen', 'Murray', 'Fraser', 'Hughes',
];
const CITIES = [
  'Boston', 'Chicago', 'Denver', 'Seattle', 'Atlanta', 'Dallas', 'Houston', 'Phoenix', 'Portland', 'San Diego',
  'San Francisco', 'Los Angeles', 'New York', 'Miami', 'Nashville', 'Detroit', 'Philadelphia', 'Baltimore',
  'Minneapolis', 'Pittsburgh', 'Austin', 'Orlando', 'Toronto', 'Vancouver', 'Montreal', 'London', 'Manchester',
  'Edinburgh', 'Dublin', 'Paris', 'Berlin', 'Madrid', 'Rome', 'Amsterdam', 'Vienna', 'Prague', 'Lisbon',
  'Stockholm', 'Oslo', 'Sydney', 'Melbourne', 'Auckland', 'Tokyo', 'Singapore', 'Mumbai', 'Cape Town', 'Nairobi',
  'Mexico City', 'Buenos Aires', 'Chicago', 'Cleveland', 'Salt Lake City', 'Kansas City', 'Sacramento', 'Tampa',
];
const FAMILY = ['mom', 'dad', 'sister', 'brother', 'wife', 'husband', 'son', 'daughter', 'aunt', 'uncle', 'cousin',
  'grandmother', 'grandfather', 'neighbor', 'boss', 'roommate', 'best friend', 'doctor', 'dentist', 'teacher', 'coach'];
const ROOMS = ['kitchen', 'living room', 'bedroom', 'bathroom', 'hallway', 'garage', 'office', 'basement',
  'dining room', 'guest room', 'nursery', 'porch', 'attic', 'laundry room', 'back yard', 'front yard'];
const DEVICES = ['lights', 'lamp', 'fan', 'heater', 'air conditioner', 'television', 'radio', 'speaker',
  'coffee maker', 'dishwasher', 'washing machine', 'oven', 'sprinklers', 'thermostat', 'alarm', 'porch light'];
const FOODS = ['milk', 'eggs', 'bread', 'butter', 'cheese', 'apples', 'bananas', 'oranges', 'rice', 'pasta', 'coffee',
  'tea', 'sugar', 'flour', 'chicken', 'salmon', 'tomatoes', 'potatoes', 'onions', 'garlic', 'yogurt', 'cereal',
  'orange juice', 'peanut butter', 'olive oil', 'lettuce', 'carrots', 'spinach', 'paper towels', 'dish soap',
  'toothpaste', 'batteries', 'ice cream', 'strawberries', 'blueberries', 'avocados', 'lemons', 'honey', 'soup'];
const GENRES = ['jazz', 'classical music', 'rock', 'country music', 'hip hop', 'the blues', 'reggae', 'folk music',
  'something relaxing', 'something upbeat', 'the news', 'a podcast', 'my workout playlist', 'the radio',
  'some piano music', 'my favorite songs', 'the top hits', 'rain sounds', 'a bedtime story'];
const PLACES = ['the airport', 'the train station', 'the nearest gas station', 'the closest pharmacy', 'the library',
  'the post office', 'the hospital', 'the grocery store', 'the mall', 'the gym', 'the bank', 'the beach',
  'the museum', 'city hall', 'the park', 'the stadium', 'the hardware store', 'the bakery', 'the bus stop',
  'the nearest coffee shop', 'the office', 'school', 'the hotel', 'the zoo', 'the movie theater', 'the dentist'];
const ACTIVITIES = ['go for a walk', 'watch a movie', 'grab lunch', 'get coffee', 'play tennis', 'go swimming',
  'go shopping', 'visit the museum', 'have dinner', 'go to the concert', 'study together', 'go for a bike ride',
  'play cards', 'cook something', 'paint the fence', 'clean the garage', 'go hiking', 'see the game',
  'try the new restaurant', 'go to the farmers market', 'fix the sink', 'plant some tomatoes'];
const CHORES = ['pay the electric bill', 'call the plumber', 'pick up the kids', 'water the plants', 'feed the cat',
  'walk the dog', 'take out the trash', 'buy a birthday card', 'return the library books', 'book a table',
  'renew my passport', 'charge my phone', 'take my medicine', 'send the invoice', 'back up my laptop',
  'check the mail', 'change the air filter', 'pick up the dry cleaning', 'schedule a haircut', 'order more printer ink',
  'call the bank', 'email the landlord', 'wash the car', 'bring an umbrella', 'buy stamps', 'lock the back door'];
const THINGS = ['keys', 'wallet', 'glasses', 'phone', 'charger', 'umbrella', 'jacket', 'headphones', 'passport',
  'notebook', 'backpack', 'remote', 'sunglasses', 'water bottle', 'laptop', 'scarf', 'gloves', 'receipt', 'ticket'];
const ADJ_GOOD = ['great', 'wonderful', 'fantastic', 'lovely', 'really nice', 'amazing', 'perfect', 'not bad',
  'pretty good', 'excellent', 'brilliant', 'fun', 'delicious', 'beautiful', 'interesting', 'helpful'];
const ADJ_BAD = ['terrible', 'awful', 'really boring', 'too expensive', 'way too loud', 'a bit cold', 'pretty crowded',
  'so confusing', 'really slow', 'not great', 'disappointing', 'too far away', 'kind of messy', 'very late'];
const WEATHER = ['rain', 'snow', 'be sunny', 'be windy', 'be cloudy', 'get colder', 'warm up', 'clear up', 'storm'];
const APPS = ['the calendar', 'my email', 'the camera', 'the calculator', 'the map', 'my messages', 'the weather app',
  'the settings', 'my photos', 'the music app', 'the clock', 'my notes', 'the browser', 'my contacts'];
const SPORTS_TEAMS = ['the Bears', 'the Giants', 'the Lakers', 'the Red Sox', 'the Yankees', 'the Eagles',
  'the Rangers', 'the Tigers', 'the Lions', 'the Sharks', 'the Hawks', 'the Rovers', 'the United', 'the Wolves'];
const JOBS = ['nurse', 'teacher', 'engineer', 'lawyer', 'chef', 'pilot', 'plumber', 'designer', 'student',
  'accountant', 'farmer', 'firefighter', 'mechanic', 'librarian', 'programmer', 'photographer', 'musician'];
const ANIMALS = ['dog', 'cat', 'puppy', 'kitten', 'rabbit', 'parrot', 'goldfish', 'hamster', 'horse', 'turtle'];
const TIMEWORDS = ['today', 'tonight', 'tomorrow', 'this afternoon', 'this evening', 'tomorrow morning',
  'next week', 'this weekend', 'on Monday', 'on Friday', 'later', 'right now', 'in an hour', 'after lunch',
  'before dinner', 'next month', 'on Saturday morning', 'first thing tomorrow'];

function person(r: R): string {
  const k = r();
  return k < 0.45 ? p(r, FIRST) : k < 0.7 ? `${p(r, FIRST)} ${p(r, LAST)}` : k < 0.85 ? `my ${p(r, FAMILY)}`
    : `${p(r, ['Mister', 'Missus', 'Miss', 'Doctor', 'Professor'])} ${p(r, LAST)}`;
}
function time(r: R): string {
  return clockTime(int(r, 0, 23), p(r, [0, 0, 15, 30, 45, int(r, 0, 59), int(r, 0, 59)]), int(r, 0, 3) as 0 | 1 | 2 | 3);
}
function aDate(r: R): string {
  const m = int(r, 0, 11);
  return date(m, int(r, 1, daysIn(m)), int(r, 0, 1) as 0 | 1);
}
function when(r: R): string {
  const k = r();
  if (k < 0.35) return p(r, TIMEWORDS);
  if (k < 0.6) return `at ${time(r)}`;
  if (k < 0.8) return `on ${aDate(r)}`;
  return `on ${p(r, WEEKDAYS)}${maybe(r, 0.5, ` at ${time(r)}`)}`;
}
function duration(r: R): string {
  const k = r();
  if (k < 0.5) { const n = int(r, 1, 90); return `${cardinal(n)} minute${n === 1 ? '' : 's'}`; }
  if (k < 0.8) { const n = int(r, 1, 12); return `${cardinal(n)} hour${n === 1 ? '' : 's'}`; }
  return p(r, ['half an hour', 'an hour and a half', 'a couple of minutes', 'ten seconds', 'thirty seconds', 'a few days']);
}
function count(r: R, lo = 2, hi = 20): string {
  return cardinal(int(r, lo, hi));
}
function price(r: R): string {
  const k = r();
  if (k < 0.4) return money(int(r, 1, 99), p(r, [0, 0, 25, 50, 75, 99, int(r, 1, 99)]));
  if (k < 0.7) return money(int(r, 100, 999), 0);
  if (k < 0.9) return `${cardinal(int(r, 1, 60) * 1000 + p(r, [0, 0, 500, int(r, 1, 999)]), { and: r() < 0.3 })} dollars`;
  return `${cardinal(int(r, 1, 20))} ${p(r, ['pounds', 'euros'])}${maybe(r, 0.4, ` ${cardinal(int(r, 1, 99))}`)}`;
}
function phone(r: R): string {
  const z = r() < 0.5 ? 'oh' : 'zero';
  const d = (n: number) => Array.from({ length: n }, () => String(int(r, 0, 9))).join('');
  return `${digits(String(int(r, 2, 9)) + d(2), z)}, ${digits(d(3), z)}, ${digits(d(4), z)}`;
}
function bigNumber(r: R): string {
  const k = r();
  if (k < 0.3) return cardinal(int(r, 100, 999), { and: r() < 0.5 });
  if (k < 0.6) return cardinal(int(r, 1000, 99999), { and: r() < 0.3 });
  if (k < 0.8) return `${cardinal(int(r, 1, 999))} ${p(r, ['thousand', 'million', 'billion'])}`;
  return decimal(int(r, 0, 99), String(int(r, 1, 9)));
}

type T = (r: R) => string;

const COMMANDS: T[] = [
  (r) => `Turn ${p(r, ['on', 'off'])} the ${p(r, ROOMS)} ${p(r, DEVICES)}.`,
  (r) => `${p(r, ['Please turn', 'Can you turn', 'Could you turn'])} ${p(r, ['on', 'off', 'down', 'up'])} the ${p(r, DEVICES)} in the ${p(r, ROOMS)}?`,
  (r) => `Set a timer for ${duration(r)}.`,
  (r) => `Set an alarm for ${time(r)}${maybe(r, 0.4, ` ${p(r, TIMEWORDS)}`)}.`,
  (r) => `Wake me up at ${time(r)}.`,
  (r) => `Remind me to ${p(r, CHORES)} ${when(r)}.`,
  (r) => `${p(r, ['Call', 'Text', 'Message', 'Email', 'Video call'])} ${person(r)}${maybe(r, 0.3, ` ${p(r, TIMEWORDS)}`)}.`,
  (r) => `Send a message to ${person(r)} saying ${p(r, ["I'll be late", "I'm on my way", 'thanks for dinner', 'call me back', 'happy birthday', "I'm running ten minutes behind", 'see you soon', 'the meeting moved', 'dinner is ready'])}.`,
  (r) => `Play ${p(r, GENRES)}${maybe(r, 0.5, ` in the ${p(r, ROOMS)}`)}.`,
  (r) => `Add ${p(r, FOODS)}${maybe(r, 0.5, ` and ${p(r, FOODS)}`)} to my shopping list.`,
  (r) => `${p(r, ['Navigate', 'Give me directions', 'Take me', 'Show me the way'])} to ${p(r, PLACES)}.`,
  (r) => `Set the thermostat to ${cardinal(int(r, 60, 78))} degrees.`,
  (r) => `Open ${p(r, APPS)}.`,
  (r) => `${p(r, ['Lock', 'Unlock', 'Open', 'Close'])} the ${p(r, ['front door', 'back door', 'garage door', 'side gate', 'windows', 'blinds', 'curtains'])}.`,
  (r) => `Schedule a meeting with ${person(r)} ${when(r)}.`,
  (r) => `Book a table for ${count(r, 2, 12)} ${when(r)}.`,
  (r) => `Turn the volume ${p(r, ['up', 'down'])} to ${cardinal(int(r, 1, 10))}.`,
  (r) => `${p(r, ['Skip', 'Pause', 'Repeat', 'Shuffle', 'Stop'])} ${p(r, ['this song', 'the music', 'the playlist', 'the podcast', 'the video', 'everything'])}.`,
  (r) => `Dim the lights in the ${p(r, ROOMS)} to ${cardinal(int(r, 1, 9) * 10)} percent.`,
  (r) => `Order ${count(r, 2, 12)} ${p(r, ['pizzas', 'coffees', 'sandwiches', 'bottles of water', 'boxes of tissues', 'rolls of tape', 'light bulbs'])} for ${p(r, TIMEWORDS)}.`,
  (r) => `Read me ${p(r, ['the news', 'my messages', 'the weather', 'my schedule', 'the headlines', 'the last email', 'the recipe'])}${maybe(r, 0.4, ` for ${p(r, TIMEWORDS)}`)}.`,
  (r) => `Take a picture${maybe(r, 0.5, ` in ${cardinal(int(r, 2, 10))} seconds`)}.`,
  (r) => `Cancel my ${p(r, ['alarm', 'meeting', 'appointment', 'order', 'reservation', 'subscription', 'flight'])} ${when(r)}.`,
  (r) => `Move my ${p(r, ['dentist appointment', 'meeting', 'haircut', 'lunch', 'call', 'class'])} to ${p(r, [p(r, WEEKDAYS), time(r), aDate(r), 'next week', 'tomorrow', 'the afternoon'])}.`,
  (r) => `${p(r, ['Please', 'Hey, could you', 'Would you'])} ${p(r, CHORES)}${p(r, ['.', ' for me?', ' when you get a chance.'])}`,
  (r) => `Don't forget to ${p(r, CHORES)} ${p(r, TIMEWORDS)}.`,
  (r) => `Write down ${p(r, ['that', 'the number', 'the address', 'her name', 'his email'])} before you forget.`,
  (r) => `Save ${phone(r)} as ${person(r)}.`,
  (r) => `Translate ${p(r, ['good morning', 'thank you', 'where is the station', 'how much is it', 'I love you'])} into ${p(r, ['Spanish', 'French', 'German', 'Italian', 'Japanese', 'Portuguese'])}.`,
  (r) => `Start a ${p(r, ['workout', 'meditation', 'timer', 'break', 'run', 'study session'])} for ${duration(r)}.`,
];

const QUESTIONS: T[] = [
  (r) => `What time does the ${p(r, ['train', 'bus', 'flight', 'ferry', 'show', 'game', 'store'])} ${p(r, ['to', 'from'])} ${p(r, CITIES)} ${p(r, ['leave', 'arrive', 'open', 'close', 'start'])}?`,
  (r) => `How far is it to ${p(r, PLACES)}?`,
  (r) => `How long does it take to get to ${p(r, [...PLACES, ...CITIES])}${maybe(r, 0.4, ` by ${p(r, ['car', 'bus', 'train', 'bike'])}`)}?`,
  (r) => `Where did you put my ${p(r, THINGS)}?`,
  (r) => `Have you seen my ${p(r, THINGS)} anywhere?`,
  (r) => `Is it going to ${p(r, WEATHER)} ${p(r, TIMEWORDS)}?`,
  (r) => `What's the weather like in ${p(r, CITIES)} ${p(r, TIMEWORDS)}?`,
  (r) => `Who won the ${p(r, ['game', 'match', 'race', 'election', 'award', 'final'])} ${p(r, ['last night', 'yesterday', 'on Sunday', 'this year', 'last week'])}?`,
  (r) => `Did ${p(r, SPORTS_TEAMS)} win ${p(r, ['last night', 'yesterday', 'on Saturday', 'again'])}?`,
  (r) => `How much is a ${p(r, ['ticket', 'room', 'coffee', 'haircut', 'taxi', 'round trip ticket'])} to ${p(r, CITIES)}?`,
  (r) => `Can you help me ${p(r, ['with my homework', 'carry these boxes', 'find my keys', 'set up the printer', 'move the couch', 'fix my bike', 'write this email'])}?`,
  (r) => `Do you know where ${p(r, PLACES)} is?`,
  (r) => `What's on my calendar ${p(r, TIMEWORDS)}?`,
  (r) => `When is ${person(r)}'s ${p(r, ['birthday', 'flight', 'appointment', 'party', 'interview', 'wedding', 'graduation'])}?`,
  (r) => `Is ${person(r)} coming to the ${p(r, ['party', 'meeting', 'wedding', 'game', 'dinner', 'concert'])} ${p(r, TIMEWORDS)}?`,
  (r) => `What's ${cardinal(int(r, 2, 99))} ${p(r, ['plus', 'minus', 'times'])} ${cardinal(int(r, 2, 99))}?`,
  (r) => `How many ${p(r, ['days', 'weeks', 'people', 'tickets', 'eggs', 'cups', 'miles'])} ${p(r, ['are left', 'do we need', 'did you say', 'are there'])}?`,
  (r) => `Could you tell me what time it is in ${p(r, CITIES)}?`,
  (r) => `Why is the ${p(r, DEVICES)} in the ${p(r, ROOMS)} still on?`,
  (r) => `${p(r, ['Should', 'Can', 'Could', 'Shall'])} we ${p(r, ACTIVITIES)} ${p(r, TIMEWORDS)}?`,
  (r) => `Would you like to ${p(r, ACTIVITIES)} with ${p(r, ['me', 'us', 'them', person(r)])} ${p(r, TIMEWORDS)}?`,
  (r) => `What do you want for ${p(r, ['breakfast', 'lunch', 'dinner', 'dessert', 'your birthday', 'Christmas'])}?`,
  (r) => `Where are you ${p(r, ['going', 'staying', 'working', 'living', 'eating'])} ${p(r, TIMEWORDS)}?`,
  (r) => `Which ${p(r, ['platform', 'gate', 'floor', 'room', 'exit', 'seat'])} ${p(r, ['is it', 'do we need', 'did they say'])}?`,
  (r) => `Is the ${p(r, ['pharmacy', 'bank', 'library', 'post office', 'grocery store', 'bakery', 'pool'])} open ${p(r, ['on Sundays', 'late tonight', 'today', 'on holidays', 'this weekend'])}?`,
  (r) => `How do you spell ${p(r, [...LAST, ...CITIES])}?`,
  (r) => `Are we still on for ${p(r, ['lunch', 'dinner', 'coffee', 'the game', 'the movie', 'Saturday'])}?`,
  (r) => `What did ${person(r)} say about the ${p(r, ['plan', 'budget', 'trip', 'house', 'test results', 'new job'])}?`,
  (r) => `Do we have any ${p(r, FOODS)} left?`,
  (r) => `How old is your ${p(r, [...FAMILY, ...ANIMALS])}?`,
];

const NUMBERS: T[] = [
  (r) => `My flight leaves ${p(r, ['on', 'for'])} ${aDate(r)} at ${time(r)}.`,
  (r) => `The meeting is on ${p(r, WEEKDAYS)} the ${ordinal(int(r, 1, 31))}${maybe(r, 0.5, ` at ${time(r)}`)}.`,
  (r) => `It costs ${price(r)}.`,
  (r) => `${cap(p(r, ['the total comes to', 'that will be', 'your balance is', 'the rent is', 'the ticket was', 'we paid']))} ${price(r)}.`,
  (r) => `The population of ${p(r, CITIES)} is about ${cardinal(int(r, 1, 20))} ${p(r, ['hundred thousand', 'million'])}.`,
  (r) => `Call me at ${phone(r)}.`,
  (r) => `${cap(p(r, ['my number is', 'her number is', 'the office number is', 'you can reach us at']))} ${phone(r)}.`,
  (r) => `I was born on ${aDate(r)}, ${year(int(r, 1930, 2020))}.`,
  (r) => `${cap(p(r, ['they got married in', 'we moved here in', 'the house was built in', 'she graduated in', 'the company started in', 'he retired in']))} ${year(int(r, 1900, 2024))}.`,
  (r) => `${cap(p(r, ['the room number is', 'we are in room', 'take bus number', 'flight', 'your order number is', 'go to gate']))} ${p(r, [cardinal(int(r, 1, 999), { and: r() < 0.4 }), digits(String(int(r, 100, 9999)))])}.`,
  (r) => `The temperature will ${p(r, ['drop', 'rise', 'climb', 'fall'])} to ${p(r, ['minus ', ''])}${cardinal(int(r, 0, 45))} degrees ${p(r, TIMEWORDS)}.`,
  (r) => `${cap(bigNumber(r))} ${p(r, ['people came to the show', 'votes were counted', 'miles on the car', 'steps today', 'copies were sold', 'visitors last year'])}.`,
  (r) => `The ${p(r, ['store', 'museum', 'office', 'pool', 'clinic', 'bank'])} opens at ${time(r)} and closes at ${time(r)}.`,
  (r) => `We need ${cardinal(int(r, 2, 24))} ${p(r, ['chairs', 'plates', 'tickets', 'cups', 'copies', 'volunteers', 'more minutes'])} by ${p(r, WEEKDAYS)}.`,
  (r) => `The score was ${cardinal(int(r, 0, 9))} to ${cardinal(int(r, 0, 9))} at half time.`,
  (r) => `${cap(p(r, ['prices went up', 'sales fell', 'the battery is at', 'the test is worth', 'the discount is', 'attendance rose by']))} ${cardinal(int(r, 1, 99))} percent.`,
  (r) => `The ${p(r, ['package', 'train', 'doctor', 'plumber', 'delivery', 'bus'])} should ${p(r, ['arrive', 'be here', 'come'])} between ${time(r)} and ${time(r)}.`,
  (r) => `It's about ${cardinal(int(r, 2, 500))} ${p(r, ['miles', 'kilometers', 'feet', 'meters', 'blocks'])} from here.`,
  (r) => `Add ${cardinal(int(r, 1, 4))} ${p(r, ['cups', 'teaspoons', 'tablespoons', 'pinches'])} of ${p(r, ['flour', 'sugar', 'salt', 'milk', 'water', 'butter'])} and bake for ${duration(r)}.`,
  (r) => `${cap(p(r, ['my appointment is', 'the party is', 'the deadline is', 'school starts', 'the lease ends', 'the concert is']))} on ${aDate(r)}.`,
  (r) => `${cap(ordinal(int(r, 1, 30)))} ${p(r, ['place goes to', 'prize went to', 'in line is', 'on the list is'])} ${person(r)}.`,
  (r) => `It is ${time(r)} in ${p(r, CITIES)} right now.`,
  (r) => `I'll be there in ${duration(r)}.`,
  (r) => `That was ${cardinal(int(r, 2, 30))} years ago${maybe(r, 0.5, `, back in ${year(int(r, 1950, 2022))}`)}.`,
  (r) => `She ran the race in ${cardinal(int(r, 2, 59))} minutes and ${cardinal(int(r, 1, 59))} seconds.`,
];

const NAMES: T[] = [
  (r) => `This is ${person(r)}, ${p(r, ['my new neighbor', 'from accounting', 'a friend from school', 'my colleague', 'the new coach', 'our landlord', 'my cousin from ' + p(r, CITIES)])}.`,
  (r) => `${p(r, FIRST)} and ${p(r, FIRST)} are ${p(r, ['getting married', 'moving to ' + p(r, CITIES), 'coming over later', 'on vacation', 'starting a business', 'running late'])}.`,
  (r) => `${p(r, FIRST)} works as a ${p(r, JOBS)} in ${p(r, CITIES)}.`,
  (r) => `My ${p(r, FAMILY)} just moved to ${p(r, CITIES)}.`,
  (r) => `Please ask for ${person(r)} at the front desk.`,
  (r) => `${p(r, FIRST)} said ${p(r, ['the package arrived', 'she would call back', 'he is sick today', 'the car is fixed', 'the game was cancelled', 'we should wait'])}.`,
  (r) => `Have you met ${p(r, FIRST)}'s ${p(r, ['new boyfriend', 'new girlfriend', 'parents', 'little sister', 'dog', 'roommate'])}?`,
  (r) => `Our ${p(r, ANIMALS)} is called ${p(r, [...FIRST, 'Buddy', 'Max', 'Luna', 'Bella', 'Charlie', 'Daisy', 'Rocky', 'Coco'])}.`,
  (r) => `${person(r)} is ${p(r, ['on the phone', 'at the door', 'waiting downstairs', 'here to see you', 'in a meeting', 'out of the office'])}.`,
  (r) => `${p(r, ['We visited', 'They flew to', 'We drove through', 'I went to', 'She stayed in'])} ${p(r, CITIES)}${maybe(r, 0.6, ` ${p(r, ['last summer', 'in the spring', 'for a week', 'twice', 'last year', 'for work'])}`)}.`,
  (r) => `${p(r, ['She lives near', 'He grew up in', 'I used to work in', 'My parents live in', 'Our office is in'])} ${p(r, CITIES)}.`,
];

const CONVERSATION: T[] = [
  (r) => p(r, ["I'm sorry, I didn't catch that.", 'Could you say that again, please?', 'Sorry, what did you say?', 'Can you speak a little louder?', "I don't understand what you mean.", 'Wait, say that one more time.']),
  (r) => `That sounds like a ${p(r, ADJ_GOOD)} idea.`,
  (r) => `We should ${p(r, ACTIVITIES)} ${p(r, ['sometime', p(r, TIMEWORDS), 'soon', 'again'])}.`,
  (r) => `Thanks so much for ${p(r, ['your help', 'the ride', 'dinner', 'the flowers', 'coming', 'the advice', 'waiting', 'the gift'])}${maybe(r, 0.5, ` ${p(r, ['yesterday', 'last night', 'today', 'this morning'])}`)}.`,
  (r) => `Let me know when you ${p(r, ['get home', 'arrive', 'are ready', 'finish', 'hear back', 'find out', 'land'])}.`,
  (r) => `I think the ${p(r, ['movie', 'food', 'hotel', 'meeting', 'book', 'show', 'trip', 'class'])} was ${p(r, [...ADJ_GOOD, ...ADJ_BAD])}.`,
  (r) => `${p(r, ["I'm", "We're", "They're", "She's", "He's"])} ${p(r, ['running late', 'almost there', 'stuck in traffic', 'on the way', 'at the store', 'still at work', 'waiting outside'])}${maybe(r, 0.5, `, ${p(r, ['sorry', 'be there soon', 'save me a seat', 'start without me', 'see you in ' + duration(r)])}`)}.`,
  (r) => `${p(r, ['Honestly', 'To be fair', 'Actually', 'Well', 'You know', 'Anyway', 'Okay'])}, ${p(r, ['it was', 'that seems', "it's", 'the new place is'])} ${p(r, [...ADJ_GOOD, ...ADJ_BAD])}.`,
  (r) => `${p(r, ['I', 'We', 'You'])} ${p(r, ["can't", "don't want to", 'have to', 'really should', 'might', 'will'])} ${p(r, ACTIVITIES)} ${p(r, TIMEWORDS)}.`,
  (r) => `${p(r, ['Good morning', 'Good afternoon', 'Good evening', 'Hi', 'Hello', 'Hey'])}${maybe(r, 0.6, `, ${p(r, FIRST)}`)}${p(r, ['!', '.', ', how are you?', ', how was your weekend?', ", it's good to see you.", ', long time no see.'])}`,
  (r) => p(r, ["I'm doing well, thanks for asking.", 'Not too bad, how about you?', "It's been a long week.", "I can't complain.", 'Pretty busy, to be honest.', 'Never better.']),
  (r) => `${p(r, ["Don't worry", 'No problem', "It's fine", 'Never mind', 'Take your time', 'No rush'])}, ${p(r, ["we'll figure it out", 'it happens', 'I can wait', "it's not a big deal", 'we have plenty of time', 'I will do it later'])}.`,
  (r) => `I ${p(r, ['love', 'hate', 'miss', 'really like', "can't stand", 'need'])} ${p(r, ['this song', 'that place', 'rainy days', 'Monday mornings', 'your cooking', 'the summer', 'my old car', 'long walks', 'this city', 'coffee in the morning'])}.`,
  (r) => `Did you ${p(r, ['remember to', 'forget to', 'get a chance to', 'ever'])} ${p(r, CHORES)}?`,
  (r) => `${p(r, ["It's", 'It was', 'It looks'])} ${p(r, ['really cold', 'so hot', 'pretty windy', 'very quiet', 'super busy', 'a bit foggy', 'lovely'])} ${p(r, ['outside', 'in here', 'downtown', 'at the beach', 'today', 'this morning'])}.`,
  (r) => `${p(r, ['Can I', 'May I', 'Could I'])} ${p(r, ['borrow your pen', 'sit here', 'ask you something', 'have the check', 'get a glass of water', 'pay by card', 'leave a message', 'try this on'])}${p(r, ['?', ', please?'])}`,
  (r) => `Happy ${p(r, ['birthday', 'anniversary', 'new year', 'holidays', 'Thanksgiving', 'Mother\'s Day', 'Father\'s Day'])}${maybe(r, 0.6, `, ${p(r, FIRST)}`)}!`,
  (r) => `${p(r, ['I told you', 'I knew', 'I heard', 'I read', 'Somebody said', "I'm not sure"])} ${p(r, ['that', 'if', 'whether'])} ${p(r, ['the store', 'the road', 'the museum', 'the school', 'the pool', 'the office'])} ${p(r, ['is closed', 'reopened', 'is being repaired', 'will be busy', 'moved downtown', 'has a new owner'])}.`,
  (r) => `${p(r, ['The kids', 'My parents', 'Our neighbors', 'The team', 'Everyone at work', 'My friends'])} ${p(r, ['loved', 'hated', 'talked about', 'laughed at', 'were excited about', 'complained about'])} the ${p(r, ['new playground', 'surprise party', 'long drive', 'fireworks', 'weather', 'new menu', 'parade'])}.`,
  (r) => `${p(r, ['Excuse me', 'Pardon me', 'Sorry to bother you'])}, ${p(r, ['is this seat taken', 'do you have the time', 'where is the restroom', 'which way is the exit', 'is this the line for tickets', 'does this bus go downtown'])}?`,
  (r) => `I ${p(r, ['already', 'just', 'finally', 'never'])} ${p(r, ['finished the report', 'called the bank', 'fixed the printer', 'paid the bills', 'cleaned the kitchen', 'read that book', 'watched that show', 'found my keys'])}.`,
  (r) => `${p(r, ['Maybe', 'Perhaps', 'I guess', 'Hopefully'])} ${p(r, ['the weather', 'traffic', 'the train', 'the meeting', 'the new phone', 'my back'])} will ${p(r, ['be better', 'get worse', 'clear up', 'be on time', 'end early', 'arrive soon'])} ${p(r, TIMEWORDS)}.`,
];

/** Template families and their weights (commands, questions, numbers and dates, names, conversation). */
const FAMILIES: [T[], number][] = [[COMMANDS, 0.22], [QUESTIONS, 0.22], [NUMBERS, 0.22], [NAMES, 0.1], [CONVERSATION, 0.24]];

/** One sentence drawn from the grammar. */
export function everydaySentence(r: R): string {
  let x = r();
  for (const [fam, w] of FAMILIES) {
    x -= w;
    if (x < 0) return p(r, fam)(r).replace(/\s+/g, ' ').trim();
  }
  return p(r, CONVERSATION)(r);
}

/** The split of an everyday sentence: a function of its normalised words (test 1/10, dev 1/10, train 8/10). */
export function everydaySplit(sentence: string): Split {
  const h = hash32('everyday', normaliseTranscript(sentence).text) % 10;
  return h === 0 ? 'test' : h === 1 ? 'dev' : 'train';
}

/** The default size of the everyday text (distinct sentences). */
export const EVERYDAY_COUNT = 60000;

/**
 * `n` distinct sentences (distinct after normalisation), in generation order, the same for the same (n, seed).
 * Generation stops early (returning fewer) if the grammar cannot produce n distinct sentences in 40 n draws.
 */
export function everydaySentences(n = EVERYDAY_COUNT, seed = 1): string[] {
  const r = rng(hash32('everyday', seed));
  const seen = new Set<string>();
  const out: string[] = [];
  for (let k = 0; out.length < n && k < 40 * n; k++) {
    const s = everydaySentence(r);
    const key = normaliseTranscript(s).text;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}
