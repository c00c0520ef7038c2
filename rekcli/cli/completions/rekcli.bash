# shellcheck shell=bash
# The shell code of rekcli's bash completion. tools/generate_docs.py writes
# completions/rekcli.bash: the tables it generates from the model (_rekcli_commands,
# _rekcli_command_options ...), then this file from its first function on (everything up
# to and including the first blank line is left out). Edit it here.

# COMP_WORDS with the words bash split at ':' and '=' (COMP_WORDBREAKS) joined again, so
# that fileb://x and --output=json are one word each: into _rekcli_words/_rekcli_cword.
_rekcli_join_words()
{
    _rekcli_words=() _rekcli_cword=0
    local i word join=0 n=-1
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        if ((i > 0 && n >= 0)) && [[ $word && $word != *[!:=]* ]]; then
            _rekcli_words[n]+=$word
            join=1
        elif ((join)) && [[ $word ]]; then
            _rekcli_words[n]+=$word
            join=0
        else
            _rekcli_words[++n]=$word
            join=0
        fi
        ((i == COMP_CWORD)) && _rekcli_cword=$n
    done
    ((COMP_CWORD >= ${#COMP_WORDS[@]})) && _rekcli_words[++n]='' && _rekcli_cword=$n
    return 0
}

# The interpreter of the installed rekcli (its #! line), or $REKCLI_PYTHON.
_rekcli_python()
{
    if [[ ${REKCLI_PYTHON-} ]]; then
        _rekcli_reply=$REKCLI_PYTHON
        return 0
    fi
    local exe line
    exe=$(type -P rekcli) || return 1
    IFS= read -r line < "$exe" || return 1
    [[ $line == '#!'* ]] || return 1
    _rekcli_reply=${line#'#!'}
}

# Collection ids of the region the command line names (--region, --profile), one a line.
_rekcli_collection_ids()
{
    local i IFS=$' \t\n' args=()
    for ((i = 1; i < ${#_rekcli_words[@]}; i++)); do
        case ${_rekcli_words[i]} in
            --region | --profile) args+=("${_rekcli_words[i]}" "${_rekcli_words[i + 1]-}") ;;
            --region=* | --profile=*) args+=("${_rekcli_words[i]}") ;;
        esac
    done
    _rekcli_python || return 0
    # Unquoted on purpose: the #! line may be "/usr/bin/env python3".
    $_rekcli_reply -m rekcli.cli.completion collection-ids "${args[@]}" 2>/dev/null
}

# Paths matching word $1, folders with a trailing /.
_rekcli_paths()
{
    local path quoted IFS=$'\n'
    for path in $(compgen -f -- "$1"); do
        [[ -d $path ]] && path+=/
        printf -v quoted '%q' "$path"
        _rekcli_candidates+=("$quoted")
    done
}

# Paths after scheme $1 (fileb:// or file://) matching word $2; the scheme alone before.
_rekcli_uri_paths()
{
    local scheme=$1 word=$2 path quoted
    if [[ $word != "$scheme"* ]]; then
        [[ $scheme == "$word"* ]] && _rekcli_candidates+=("$scheme")
        return 0
    fi
    local IFS=$'\n'
    for path in $(compgen -f -- "${word#"$scheme"}"); do
        [[ -d $path ]] && path+=/
        printf -v quoted '%q' "$path"
        _rekcli_candidates+=("$scheme$quoted")
    done
}

_rekcli()
{
    local _rekcli_reply _rekcli_words _rekcli_cword _rekcli_candidates=()
    _rekcli_join_words
    local cword=$_rekcli_cword cur=${_rekcli_words[_rekcli_cword]}
    local bash_cur=${COMP_WORDS[COMP_CWORD]-}

    # The command: the first word that is neither an option nor an option's value; the
    # words after it that are neither count as its arguments.
    local i word command='' skip=0 arguments=0 aliased=0
    for ((i = 1; i < cword; i++)); do
        word=${_rekcli_words[i]}
        if ((skip)); then
            skip=0
            continue
        fi
        case $word in
            --*=*) ;;
            -*)
                _rekcli_option_kind "$command" "$word"
                [[ $_rekcli_reply == value ]] && skip=1
                ;;
            *)
                if [[ $command ]]; then
                    arguments=$((arguments + 1))
                elif [[ $word == "$_rekcli_alias" ]] && ((!aliased)); then
                    aliased=1   # `rekcli rekognition <command>`: the command follows
                else
                    command=$word
                fi
                ;;
        esac
    done

    # The option whose value is being typed: --opt=<cur>, --opt <cur>, or a list's next value.
    local option='' prefix='' kind=''
    if [[ $cur == --*=* ]]; then
        option=${cur%%=*}
        prefix=$option=
        cur=${cur#*=}
    elif ((cword > 1)) && [[ ${_rekcli_words[cword - 1]} == --* ]]; then
        option=${_rekcli_words[cword - 1]}
    else
        for ((i = cword - 1; i > 1; i--)); do
            word=${_rekcli_words[i]}
            if [[ $word == --* ]]; then
                _rekcli_option_kind "$command" "$word"
                [[ $_rekcli_reply == list && $word != *=* ]] && option=$word
                break
            fi
        done
    fi
    if [[ $option ]]; then
        _rekcli_option_kind "$command" "$option"
        kind=$_rekcli_reply
        [[ $kind == flag ]] && option=''
    fi

    if [[ $option && ($kind == value || $cur != -*) ]]; then
        _rekcli_option_values "$command" "$option"
        case $_rekcli_reply in
            words:*)
                local IFS=$' \t\n'
                _rekcli_candidates=($(compgen -W "${_rekcli_reply#words:}" -- "$cur"))
                ;;
            fileb | file) _rekcli_uri_paths "$_rekcli_reply://" "$cur" ;;
            path) _rekcli_paths "$cur" ;;
            collection-id)
                local IFS=$'\n'
                _rekcli_candidates=($(compgen -W "$(_rekcli_collection_ids)" -- "$cur"))
                ;;
        esac
    elif [[ $command && $cur != -* ]] && ((arguments == 0)) &&
        _rekcli_command_arguments "$command" && [[ $_rekcli_reply ]]; then
        local IFS=$' \t\n'
        _rekcli_candidates=($(compgen -W "$_rekcli_reply" -- "$cur"))
    elif [[ $command || $cur == -* ]]; then
        if [[ $command ]]; then
            _rekcli_command_options "$command"
        else
            _rekcli_reply=''
        fi
        local used=" ${_rekcli_words[*]:1:cword-1} " name names='' globals=$_rekcli_globals
        [[ $command && $_rekcli_standalone == *" $command "* ]] && globals=''
        for name in $_rekcli_reply $globals; do
            [[ $used == *" $name "* ]] || names+=" $name"
        done
        _rekcli_candidates=($(compgen -W "$names" -- "$cur"))
    else
        local commands=" $_rekcli_commands "
        ((aliased)) && commands=${commands/ $_rekcli_alias / }
        _rekcli_candidates=($(compgen -W "$commands" -- "$cur"))
    fi

    # Bash replaces only its own current word (after the last ':' or '='): cut what precedes.
    local whole=$prefix$cur candidate
    local head=${whole:0:${#whole}-${#bash_cur}}
    COMPREPLY=()
    for candidate in "${_rekcli_candidates[@]}"; do
        candidate=$prefix$candidate
        COMPREPLY+=("${candidate#"$head"}")
        [[ $candidate == */ ]] && compopt -o nospace 2>/dev/null
    done
    return 0
}

complete -F _rekcli rekcli
