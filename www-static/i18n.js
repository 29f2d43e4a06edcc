// UI strings for the parlor web client. Every string the user sees that does not come from the
// server or from another user is looked up here. Placeholders look like {name}.

export const LANGS = ['en', 'ru'];

const dict = {
  en: {
    appTitle: 'parlor',
    langLabel: 'Language',

    // connection status
    'status.offline': 'offline',
    'status.connecting': 'connecting…',
    'status.signingIn': 'signing in…',
    'status.connected': 'connected',
    'status.reconnecting': 'reconnecting in {n} s',
    'status.closedReason': 'connection closed ({code}: {reason})',
    'status.closedCode': 'connection closed ({code})',
    reconnectNow: 'Reconnect now',

    // sign-in
    signInTitle: 'Sign in',
    signInIntro: 'Log in to your account, sign up for one, or chat as a guest with just a name.',
    nameLabel: 'Name',
    namePlaceholder: 'your name',
    nameHint: '1–{max} letters (in any one alphabet), digits, _ or -',
    signIn: 'Sign in',
    signOut: 'Sign out',
    'signin.invalidName': 'Use 1–{max} characters: letters, digits, _ or -.',
    'signin.noConnection': 'Could not connect to the server.',
    // accounts and names (sign up, log in, log out, staying signed in)
    'auth.passwordLabel': 'Password',
    'auth.passwordPlaceholder': 'only for an account',
    'auth.passwordHint': 'An account keeps your name and puts you on the leaderboard. Guests need no password.',
    'auth.logIn': 'Log in',
    'auth.signUp': 'Sign up',
    'auth.guest': 'Continue as guest',
    'auth.passwordLength': 'The password needs {min}–{max} characters.',
    'auth.badCredentials': 'Wrong name or password.',
    'auth.nameInUse': 'This name is taken: someone is using it (or one that looks just like it), or it belongs to an account. If the account is yours, enter its password and log in; otherwise choose another name.',
    'auth.held': 'This name is kept for {n} more seconds for the connection that just dropped, so its owner can come back. Wait and try again, or choose another name.',
    'auth.onlineElsewhere': 'This account is signed in on another device or tab. Sign out there first.',
    'auth.badName': 'This name is not allowed. Use 1–{max} letters of one alphabet (do not mix, say, Latin and Cyrillic letters), digits, _ or -.',
    'auth.banned': 'This name or account may not sign in now (it may be banned).',
    'auth.expired': 'Your sign-in has expired. Log in again.',
    'auth.busy': 'The server is busy. Try again in a moment.',
    'lb.mine': 'Your place: {rank} of the ranked players, with {points} points.',
    'lb.mineUnranked': 'You are not ranked yet: play a quiz game to appear here.',
    'lb.guest': 'You are a guest: sign up to appear on the leaderboard.',

    // rooms
    myRooms: 'My rooms',
    allRooms: 'All rooms',
    refreshRooms: 'Refresh room list',
    roomsEmpty: 'No rooms.',
    roomsLoading: 'Loading…',
    roomMembers: '{n}/{max}',
    roomMembersTitle: '{n} of {max} members',
    join: 'Join',
    open: 'Open',
    leave: 'Leave',
    createTitle: 'New room',
    createName: 'Room name',
    createMax: 'Max {def}',
    createMaxTitle: 'Member limit (2–{max}); {def} when left empty',
    create: 'Create',
    'create.invalidName': 'A room name has 1–{max} characters, no control characters, not only spaces.',
    'create.invalidMax': 'The member limit must be a whole number from 2 to {max}.',
    showRooms: 'Rooms',
    showMembers: 'Members',
    joinedRoom: 'You joined “{room}”.',
    leftRoom: 'You left “{room}”.',
    roomGone: 'The room “{room}” no longer exists.',

    // quiz rooms
    createGame: 'Kind of room',
    gameChat: 'Chat',
    gameQuiz: 'Quiz',
    createRounds: 'Rounds',
    createSeconds: 'Seconds',
    createRoundsTitle: 'Questions per game (1–{max}), optional',
    createSecondsTitle: 'Seconds per question (1–{max}), optional',
    'create.invalidRounds': 'Rounds must be a whole number from 1 to {max}.',
    'create.invalidSeconds': 'Seconds must be a whole number from 1 to {max}.',
    'room.quiz': 'Quiz',
    'room.waiting': 'waiting',
    'room.playing': 'playing',
    'room.host': 'host {name}',
    hostTag: 'host',
    'quiz.label': 'Quiz',
    'quiz.host': 'Host: {name}',
    'quiz.settings': '{rounds} rounds · {seconds} s each',
    'quiz.start': 'Start',
    'quiz.playAgain': 'Play again',
    'quiz.waitingHost': 'Waiting for {name} to start the game.',
    'quiz.waitingYou': 'You are the host: press Start when everyone is here.',
    'quiz.starting': 'Get ready…',
    'quiz.round': 'Question {round} of {of}',
    'quiz.secondsLeft': '{n} s',
    'quiz.timeLeft': 'Time left',
    'quiz.choices': 'Answers',
    'quiz.pick': 'Pick an answer before the time runs out.',
    'quiz.locked': 'Answer locked in. Waiting for the others…',
    'quiz.timeUp': 'Time is up.',
    'quiz.watching': 'You are watching this game; you will play from the next one.',
    'quiz.correct': 'Correct! +{n}',
    'quiz.wrong': 'Wrong. The answer was {answer}.',
    'quiz.missed': 'No answer. The answer was {answer}.',
    'quiz.answerWas': 'The answer was {answer}.',
    'quiz.next': 'Next question in a moment…',
    'quiz.last': 'Final results in a moment…',
    'quiz.gameOver': 'Game over',
    'quiz.winner': 'Winner: {names}',
    'quiz.winners': 'Winners: {names}',
    'quiz.waitingNext': 'Waiting for {name} to start a new game.',
    'quiz.scores': 'Scores',
    'quiz.players': 'Players',
    'quiz.ranking': 'Final ranking',
    'quiz.points': '{n} pts',
    'quiz.playerLeft': 'left',
    'quiz.rankTitle': 'Rank {rank}',
    'quiz.noticeStarted': 'The game has started: {rounds} questions, {seconds} s each.',
    'quiz.noticeHost': '{name} is now the host.',
    'quiz.noticeOver': 'Game over. Winner: {names}.',
    'quiz.noticeOverMany': 'Game over. Winners: {names}.',

    // leaderboard
    leaderboard: 'Leaderboard',
    leaderboardNote: 'Players with an account, by total points. Guests are ranked in their games but not here.',
    leaderboardEmpty: 'Nobody is on the leaderboard yet.',
    'lb.rank': '#',
    'lb.name': 'Player',
    'lb.points': 'Points',
    'lb.games': 'Games',
    'lb.wins': 'Wins',
    refresh: 'Refresh',
    close: 'Close',

    // chat
    members: 'Members',
    you: 'you',
    messagePlaceholder: 'Message to “{room}”',
    messagePlaceholderWhispers: '/w name text',
    send: 'Send',
    noRoom: 'Join a room to start chatting.',
    noMessages: 'No messages yet.',
    memberJoined: '{name} joined',
    membersMore: 'and {n} more',
    memberLeft: '{name} left',
    reconnectedDivider: 'reconnected',
    historyGap: 'reconnected — earlier messages may be missing',
    'text.empty': 'The message is empty.',
    'text.tooLong': 'The message is too long ({n}/{max} characters).',
    charsLeft: '{n} left',
    whisperTo: 'Whisper to {name}',
    memberTitle: 'Click to whisper to {name}',

    // whispers
    whispers: 'Whispers',
    whisperFromLabel: '{name} → you',
    whisperToLabel: 'you → {name}',
    whisperUsage: 'Usage: /w name text',
    whisperSelf: 'You cannot whisper to yourself.',
    whisperReceived: 'Whisper from {name}',
    noWhispers: 'No whispers yet. Click a member name to whisper.',

    // errors
    errorLine: '{code}: {message}',
    'error.disconnected': 'not connected',
    'error.timeout': 'the server did not answer',
    'err.bad_json': 'The server could not read the message.',
    'err.bad_request': 'Invalid request.',
    'err.unknown_type': 'The server does not know this request.',
    'err.unauthorized': 'Not signed in.',
    'err.name_taken': 'That name is already in use.',
    'err.no_such_room': 'No such room.',
    'err.no_such_user': 'Nobody of that name is online.',
    'err.room_full': 'The room is full.',
    'err.not_in_room': 'You are not in that room.',
    'err.not_allowed': 'Not allowed.',
    'err.rate_limited': 'Too fast — wait a moment.',
    'err.server_busy': 'The server is busy; try again later.',
    'err.internal': 'Server error.',
    'err.game_state': 'Not possible at this point of the game.',
    'close.1000': 'The connection was closed.',
    'close.1001': 'The server is restarting.',
    'close.1003': 'The server could not accept what this page sent.',
    'close.1006': 'The connection to the server was lost.',
    'close.1007': 'The server could not read text this page sent.',
    'close.1008': 'The server closed the connection.',
    'close.1009': 'A message was too big for the server.',
    'close.1011': 'The server ran into a problem and closed the connection.',
    dismiss: 'Dismiss',

    // what operators do (issue 16, operators' part)
    'ops.announce': 'Announcement',
    'ops.roomClosed': 'The room “{room}” was closed by a moderator.',
    'ops.deleted': 'A message was removed by a moderator.',
    'ops.reason': 'Reason: {reason}',
    'ops.mutedUntil': 'A moderator muted you until {time}. You can read but not write until then.',
    'ops.mutedForever': 'A moderator muted you. You can read but not write.',
    'ops.unmuted': 'You can write again.',
    'ops.bannedUntil': 'You are banned from this server until {time}.',
    'ops.bannedForever': 'You are banned from this server.',
    'ops.banOver': 'Your ban is over.',
    'ops.nameBannedUntil': 'This name is banned until {time}.',
    'ops.nameBannedForever': 'This name is banned.',
    'ops.kicked': 'A moderator removed you from the chat.',
    'ops.rateLimit': 'You were disconnected for sending too many messages too fast.',
    'ops.tooSlow': 'Your connection was too slow to keep up, so the server closed it.',
    'ops.comeBack': 'Come back',
    'ops.reconnect': 'Reconnect',
    'ops.draining': 'The server will restart in {n} s. Games in progress can finish; new games cannot start.',
    'ops.drainingNow': 'The server is about to restart.',
    'ops.restarting': 'The server is restarting. You will be reconnected when it is back.',
    'status.restartingIn': 'server restarting, trying again in {n} s',
    'status.stopped': 'disconnected',

    // what the player types and reads (issue 16, words part)
    'cmd.title': 'Commands',
    'cmd.whisper': 'whisper to a player: /w name text',
    'cmd.whisper.usage': '/w',
    'cmd.help': 'show this list',
    'cmd.help.usage': '/help',
    'cmd.slash': 'send a line that starts with “/”: //text sends /text',
    'cmd.slash.usage': '//',
    'cmd.unknown': 'There is no command {cmd}, so nothing was sent. Commands: /w name text (whisper), /help. To send a line that starts with “/”, type “//”.',
    'outbox.waiting': 'waiting to send…',
    'outbox.failed': 'not sent: {why}',
    'outbox.edit': 'Edit',
    'outbox.drop': 'Discard',
    'room.lobby': 'Lobby',
    'quiz.noWinner': 'Nobody scored: no winner this time.',
    'err.bad_credentials': 'Wrong name or password.',
    'err.disconnected': 'You are not connected right now.',
    'err.timeout': 'The server did not answer in time.',
    'err.other': 'The server refused this.',
    'close.signinTimeout': 'Signing in took too long.',
    'close.other': 'The connection was closed.',
    // the language a question is written in (issue 16, question language part)
    'quiz.questionLang': 'This question is in {name}',
  },

  ru: {
    appTitle: 'parlor',
    langLabel: 'Язык',

    'status.offline': 'нет соединения',
    'status.connecting': 'подключение…',
    'status.signingIn': 'вход…',
    'status.connected': 'подключено',
    'status.reconnecting': 'переподключение через {n} с',
    'status.closedReason': 'соединение закрыто ({code}: {reason})',
    'status.closedCode': 'соединение закрыто ({code})',
    reconnectNow: 'Подключиться сейчас',

    signInTitle: 'Вход',
    signInIntro: 'Войдите в свою учётную запись, зарегистрируйтесь или общайтесь как гость — нужно только имя.',
    nameLabel: 'Имя',
    namePlaceholder: 'ваше имя',
    nameHint: '1–{max} букв (одного алфавита), цифр, _ или -',
    signIn: 'Войти',
    signOut: 'Выйти',
    'signin.invalidName': 'Допустимо 1–{max} символов: буквы, цифры, _ или -.',
    'signin.noConnection': 'Не удалось подключиться к серверу.',
    // учётные записи и имена (регистрация, вход, выход, сохранение входа)
    'auth.passwordLabel': 'Пароль',
    'auth.passwordPlaceholder': 'только для учётной записи',
    'auth.passwordHint': 'Учётная запись сохраняет ваше имя и место в рейтинге. Гостю пароль не нужен.',
    'auth.logIn': 'Войти',
    'auth.signUp': 'Зарегистрироваться',
    'auth.guest': 'Войти как гость',
    'auth.passwordLength': 'Пароль должен быть длиной {min}–{max} символов.',
    'auth.badCredentials': 'Неверное имя или пароль.',
    'auth.nameInUse': 'Это имя занято: его (или очень похожее) кто-то использует, или оно принадлежит учётной записи. Если запись ваша, введите пароль и нажмите «Войти»; иначе выберите другое имя.',
    'auth.held': 'Это имя ещё {n} с сохраняется за только что прервавшимся подключением, чтобы его владелец мог вернуться. Подождите и попробуйте снова или выберите другое имя.',
    'auth.onlineElsewhere': 'С этой учётной записью уже вошли на другом устройстве или вкладке. Сначала выйдите там.',
    'auth.badName': 'Такое имя недопустимо. Используйте 1–{max} букв одного алфавита (не смешивайте, например, латиницу и кириллицу), цифр, _ или -.',
    'auth.banned': 'С этим именем или учётной записью сейчас войти нельзя (возможно, они заблокированы).',
    'auth.expired': 'Срок входа истёк. Войдите снова.',
    'auth.busy': 'Сервер перегружен. Попробуйте через минуту.',
    'lb.mine': 'Ваше место: {rank} среди игроков рейтинга, очков: {points}.',
    'lb.mineUnranked': 'Вас пока нет в рейтинге: сыграйте в викторину.',
    'lb.guest': 'Вы гость: зарегистрируйтесь, чтобы попасть в рейтинг.',

    myRooms: 'Мои комнаты',
    allRooms: 'Все комнаты',
    refreshRooms: 'Обновить список комнат',
    roomsEmpty: 'Комнат нет.',
    roomsLoading: 'Загрузка…',
    roomMembers: '{n}/{max}',
    roomMembersTitle: 'участников: {n} из {max}',
    join: 'Войти',
    open: 'Открыть',
    leave: 'Покинуть',
    createTitle: 'Новая комната',
    createName: 'Название комнаты',
    createMax: 'Макс. {def}',
    createMaxTitle: 'Лимит участников (2–{max}); если пусто — {def}',
    create: 'Создать',
    'create.invalidName': 'Название комнаты: 1–{max} символов, без управляющих символов, не только пробелы.',
    'create.invalidMax': 'Лимит участников — целое число от 2 до {max}.',
    showRooms: 'Комнаты',
    showMembers: 'Участники',
    joinedRoom: 'Вы вошли в комнату «{room}».',
    leftRoom: 'Вы покинули комнату «{room}».',
    roomGone: 'Комнаты «{room}» больше нет.',

    createGame: 'Тип комнаты',
    gameChat: 'Чат',
    gameQuiz: 'Викторина',
    createRounds: 'Раунды',
    createSeconds: 'Секунды',
    createRoundsTitle: 'Вопросов за игру (1–{max}), необязательно',
    createSecondsTitle: 'Секунд на вопрос (1–{max}), необязательно',
    'create.invalidRounds': 'Число раундов — целое число от 1 до {max}.',
    'create.invalidSeconds': 'Время на вопрос — целое число секунд от 1 до {max}.',
    'room.quiz': 'Викторина',
    'room.waiting': 'ожидание',
    'room.playing': 'идёт игра',
    'room.host': 'ведущий {name}',
    hostTag: 'ведущий',
    'quiz.label': 'Викторина',
    'quiz.host': 'Ведущий: {name}',
    'quiz.settings': 'раундов: {rounds} · по {seconds} с',
    'quiz.start': 'Начать',
    'quiz.playAgain': 'Сыграть ещё',
    'quiz.waitingHost': 'Ждём, когда {name} начнёт игру.',
    'quiz.waitingYou': 'Вы ведущий: нажмите «Начать», когда все соберутся.',
    'quiz.starting': 'Приготовьтесь…',
    'quiz.round': 'Вопрос {round} из {of}',
    'quiz.secondsLeft': '{n} с',
    'quiz.timeLeft': 'Осталось времени',
    'quiz.choices': 'Варианты ответа',
    'quiz.pick': 'Выберите ответ, пока не вышло время.',
    'quiz.locked': 'Ответ принят. Ждём остальных…',
    'quiz.timeUp': 'Время вышло.',
    'quiz.watching': 'Вы наблюдаете за этой игрой; сыграете со следующей.',
    'quiz.correct': 'Верно! +{n}',
    'quiz.wrong': 'Неверно. Правильный ответ: {answer}.',
    'quiz.missed': 'Нет ответа. Правильный ответ: {answer}.',
    'quiz.answerWas': 'Правильный ответ: {answer}.',
    'quiz.next': 'Следующий вопрос через мгновение…',
    'quiz.last': 'Итоги через мгновение…',
    'quiz.gameOver': 'Игра окончена',
    'quiz.winner': 'Победитель: {names}',
    'quiz.winners': 'Победители: {names}',
    'quiz.waitingNext': 'Ждём, когда {name} начнёт новую игру.',
    'quiz.scores': 'Очки',
    'quiz.players': 'Игроки',
    'quiz.ranking': 'Итоговая таблица',
    'quiz.points': '{n} оч.',
    'quiz.playerLeft': 'вышел(а)',
    'quiz.rankTitle': 'Место {rank}',
    'quiz.noticeStarted': 'Игра началась: вопросов — {rounds}, по {seconds} с на каждый.',
    'quiz.noticeHost': '{name} теперь ведущий.',
    'quiz.noticeOver': 'Игра окончена. Победитель: {names}.',
    'quiz.noticeOverMany': 'Игра окончена. Победители: {names}.',

    leaderboard: 'Рейтинг',
    leaderboardNote: 'Игроки с учётной записью, по сумме очков. Гости участвуют в играх, но не в рейтинге.',
    leaderboardEmpty: 'В рейтинге пока никого нет.',
    'lb.rank': '№',
    'lb.name': 'Игрок',
    'lb.points': 'Очки',
    'lb.games': 'Игры',
    'lb.wins': 'Победы',
    refresh: 'Обновить',
    close: 'Закрыть',

    members: 'Участники',
    you: 'вы',
    messagePlaceholder: 'Сообщение в комнату «{room}»',
    messagePlaceholderWhispers: '/w имя текст',
    send: 'Отправить',
    noRoom: 'Войдите в комнату, чтобы общаться.',
    noMessages: 'Сообщений пока нет.',
    memberJoined: '{name} вошёл(а)',
    membersMore: 'и ещё {n}',
    memberLeft: '{name} вышел(а)',
    reconnectedDivider: 'переподключено',
    historyGap: 'переподключено — часть сообщений могла пропасть',
    'text.empty': 'Сообщение пустое.',
    'text.tooLong': 'Сообщение слишком длинное ({n}/{max} символов).',
    charsLeft: 'осталось {n}',
    whisperTo: 'Шепнуть {name}',
    memberTitle: 'Нажмите, чтобы шепнуть {name}',

    whispers: 'Шёпот',
    whisperFromLabel: '{name} → вам',
    whisperToLabel: 'вы → {name}',
    whisperUsage: 'Формат: /w имя текст',
    whisperSelf: 'Нельзя шептать самому себе.',
    whisperReceived: 'Шёпот от {name}',
    noWhispers: 'Шёпота пока нет. Нажмите на имя участника, чтобы шепнуть.',

    errorLine: '{code}: {message}',
    'error.disconnected': 'нет соединения',
    'error.timeout': 'сервер не ответил',
    'err.bad_json': 'Сервер не смог прочитать сообщение.',
    'err.bad_request': 'Неверный запрос.',
    'err.unknown_type': 'Сервер не знает такого запроса.',
    'err.unauthorized': 'Вход не выполнен.',
    'err.name_taken': 'Это имя уже занято.',
    'err.no_such_room': 'Такой комнаты нет.',
    'err.no_such_user': 'Пользователя с таким именем нет в сети.',
    'err.room_full': 'Комната заполнена.',
    'err.not_in_room': 'Вы не в этой комнате.',
    'err.not_allowed': 'Не разрешено.',
    'err.rate_limited': 'Слишком часто — подождите немного.',
    'err.server_busy': 'Сервер перегружен, попробуйте позже.',
    'err.internal': 'Ошибка сервера.',
    'err.game_state': 'Сейчас это невозможно: игра в другом состоянии.',
    'close.1000': 'Соединение закрыто.',
    'close.1001': 'Сервер перезапускается.',
    'close.1003': 'Сервер не принял данные, отправленные страницей.',
    'close.1006': 'Соединение с сервером потеряно.',
    'close.1007': 'Сервер не смог прочитать текст, отправленный страницей.',
    'close.1008': 'Сервер закрыл соединение.',
    'close.1009': 'Сообщение оказалось слишком большим для сервера.',
    'close.1011': 'На сервере произошла ошибка, и он закрыл соединение.',
    dismiss: 'Закрыть',

    // what operators do (issue 16, operators' part)
    'ops.announce': 'Объявление',
    'ops.roomClosed': 'Модератор закрыл комнату «{room}».',
    'ops.deleted': 'Модератор удалил сообщение.',
    'ops.reason': 'Причина: {reason}',
    'ops.mutedUntil': 'Модератор запретил вам писать до {time}. Читать можно.',
    'ops.mutedForever': 'Модератор запретил вам писать. Читать можно.',
    'ops.unmuted': 'Вы снова можете писать.',
    'ops.bannedUntil': 'Вы заблокированы на этом сервере до {time}.',
    'ops.bannedForever': 'Вы заблокированы на этом сервере.',
    'ops.banOver': 'Срок блокировки истёк.',
    'ops.nameBannedUntil': 'Это имя заблокировано до {time}.',
    'ops.nameBannedForever': 'Это имя заблокировано.',
    'ops.kicked': 'Модератор удалил вас из чата.',
    'ops.rateLimit': 'Вас отключили: слишком много сообщений слишком быстро.',
    'ops.tooSlow': 'Соединение не успевало получать сообщения, и сервер его закрыл.',
    'ops.comeBack': 'Вернуться',
    'ops.reconnect': 'Переподключиться',
    'ops.draining': 'Сервер перезапустится через {n} с. Идущие игры можно доиграть, новые начать нельзя.',
    'ops.drainingNow': 'Сервер сейчас перезапустится.',
    'ops.restarting': 'Сервер перезапускается. Мы подключим вас снова, когда он заработает.',
    'status.restartingIn': 'сервер перезапускается, новая попытка через {n} с',
    'status.stopped': 'отключено',

    // what the player types and reads (issue 16, words part)
    'cmd.title': 'Команды',
    'cmd.whisper': 'шепнуть игроку: /w имя текст',
    'cmd.whisper.usage': '/w',
    'cmd.help': 'показать этот список',
    'cmd.help.usage': '/help',
    'cmd.slash': 'отправить строку, начинающуюся с «/»: //текст отправит /текст',
    'cmd.slash.usage': '//',
    'cmd.unknown': 'Команды {cmd} нет, поэтому ничего не отправлено. Команды: /w имя текст (шёпот), /help. Чтобы отправить строку, начинающуюся с «/», наберите «//».',
    'outbox.waiting': 'ждёт отправки…',
    'outbox.failed': 'не отправлено: {why}',
    'outbox.edit': 'Изменить',
    'outbox.drop': 'Удалить',
    'room.lobby': 'Лобби',
    'quiz.noWinner': 'Никто не набрал очков: победителя нет.',
    'err.bad_credentials': 'Неверное имя или пароль.',
    'err.disconnected': 'Сейчас нет соединения с сервером.',
    'err.timeout': 'Сервер не ответил вовремя.',
    'err.other': 'Сервер отказал.',
    'close.signinTimeout': 'Вход занял слишком много времени.',
    'close.other': 'Соединение закрыто.',
    // the language a question is written in (issue 16, question language part)
    'quiz.questionLang': 'Язык вопроса: {name}',
  },
};

const STORAGE_KEY = 'parlor.lang';
let current = 'en';
const listeners = new Set();

function storedLang() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

export function detectLang() {
  const saved = storedLang();
  if (saved && LANGS.includes(saved)) return saved;
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const base = String(p).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export function getLang() { return current; }

export function has(key) { return Object.prototype.hasOwnProperty.call(dict[current], key) || Object.prototype.hasOwnProperty.call(dict.en, key); }

/** Looks up `key` in the current language (falling back to English) and fills {placeholders}. */
export function t(key, params) {
  let s = dict[current][key];
  if (s === undefined) s = dict.en[key];
  if (s === undefined) s = key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/**
 * Fills the elements under `root` that carry data-i18n* attributes:
 * data-i18n (textContent), data-i18n-placeholder, data-i18n-title, data-i18n-aria (aria-label),
 * with optional JSON parameters in data-i18n-args.
 */
export function applyI18n(root = document) {
  const els = root.querySelectorAll('[data-i18n],[data-i18n-placeholder],[data-i18n-title],[data-i18n-aria]');
  const all = root.nodeType === 1 && root.matches('[data-i18n],[data-i18n-placeholder],[data-i18n-title],[data-i18n-aria]') ? [root, ...els] : els;
  for (const el of all) {
    let args;
    if (el.dataset.i18nArgs) {
      try { args = JSON.parse(el.dataset.i18nArgs); } catch { args = undefined; }
    }
    if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, args);
    if (el.dataset.i18nPlaceholder) el.placeholder = t(el.dataset.i18nPlaceholder, args);
    if (el.dataset.i18nTitle) el.title = t(el.dataset.i18nTitle, args);
    if (el.dataset.i18nAria) el.setAttribute('aria-label', t(el.dataset.i18nAria, args));
  }
}

/** Tags `el` so that applyI18n keeps it translated, and translates it now. */
export function bind(el, key, args, attr = 'text') {
  const name = { text: 'i18n', placeholder: 'i18nPlaceholder', title: 'i18nTitle', aria: 'i18nAria' }[attr];
  el.dataset[name] = key;
  if (args !== undefined) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  applyI18n(el);
  return el;
}

export function setLang(lang, remember = true) {
  if (!LANGS.includes(lang)) return;
  current = lang;
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* private mode */ }
  }
  document.documentElement.lang = lang;
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.add(fn); }
