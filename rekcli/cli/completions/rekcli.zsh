# The shell code of rekcli's zsh completion. tools/generate_docs.py writes
# completions/_rekcli: the tables it generates from the model, then this file from its
# first function on (everything up to and including the first blank line is left out),
# with {alias} replaced by the aws service word. Edit it here.

# Collection ids of the region the command line names (--region, --profile), one a line.
_rekcli_collection_ids() {
  local i region= profile= py=${REKCLI_PYTHON:-} line
  for (( i = 2; i <= $#words; i++ )); do
    case $words[i] in
      (--region) region=${words[i+1]:-} ;;
      (--region=*) region=${words[i]#*=} ;;
      (--profile) profile=${words[i+1]:-} ;;
      (--profile=*) profile=${words[i]#*=} ;;
    esac
  done
  if [[ -z $py ]]; then
    [[ -n ${commands[rekcli]:-} && -r ${commands[rekcli]} ]] || return 0
    read -r line < ${commands[rekcli]}
    [[ $line == '#!'* ]] || return 0
    py=${line#\#!}
  fi
  ${=py} -m rekcli.cli.completion collection-ids ${region:+--region} ${region:+$region} \
    ${profile:+--profile} ${profile:+$profile} 2>/dev/null
}

_rekcli() {
  local i word command= skip=0 option= kind= arguments=0 aliased=0
  for (( i = 2; i < CURRENT; i++ )); do
    word=$words[i]
    if (( skip )); then
      skip=0
      continue
    fi
    case $word in
      (--*=*) ;;
      (-*) _rekcli_option_kind "$command" "$word"; [[ $REPLY == value ]] && skip=1 ;;
      (*)
        if [[ -n $command ]]; then
          arguments=$(( arguments + 1 ))
        elif [[ $word == '{alias}' ]] && (( ! aliased )); then
          aliased=1
        else
          command=$word
        fi ;;
    esac
  done

  if [[ $PREFIX == --*=* ]]; then
    option=${PREFIX%%=*}
    compset -P '*='
  elif (( CURRENT > 2 )) && [[ $words[CURRENT-1] == --* ]]; then
    option=$words[CURRENT-1]
  else
    for (( i = CURRENT - 1; i > 2; i-- )); do
      if [[ $words[i] == --* ]]; then
        _rekcli_option_kind "$command" "$words[i]"
        [[ $REPLY == list && $words[i] != *=* ]] && option=$words[i]
        break
      fi
    done
  fi
  if [[ -n $option ]]; then
    _rekcli_option_kind "$command" "$option"
    kind=$REPLY
    [[ $kind == flag ]] && option=
  fi

  if [[ -n $option && ( $kind == value || $PREFIX != -* ) ]]; then
    _rekcli_option_values "$command" "$option"
    case $REPLY in
      (words:*)
        local -a values
        values=(${=REPLY#words:})
        compadd -a values
        return ;;
      (fileb|file)
        if compset -P "$REPLY://"; then
          _files
        else
          compadd -S '' -- "$REPLY://"
        fi
        return ;;
      (path)
        _files
        return ;;
      (collection-id)
        local -a ids
        ids=(${(f)"$(_rekcli_collection_ids)"})
        compadd -a ids
        return ;;
    esac
    return 1
  fi
  local -a reply
  if [[ -n $command && $PREFIX != -* ]] && (( arguments == 0 )); then
    _rekcli_command_arguments "$command"
    if (( $#reply )); then
      _describe -t commands 'command' reply
      return
    fi
  fi
  if [[ -n $command || $PREFIX == -* ]]; then
    _rekcli_options "$command"
    _describe -t options 'option' reply
  else
    _rekcli_command_list
    (( aliased )) && reply=(${reply:#{alias}:*})
    _describe -t commands 'command' reply
  fi
}

_rekcli "$@"
