using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Training;

/// <summary>How to train: the fastai defaults unless told otherwise.</summary>
internal sealed record TrainOptions
{
    public int Epochs { get; init; } = 5;

    /// <summary>Epochs with the backbone frozen before <see cref="Epochs"/> unfrozen ones (fine_tune).</summary>
    public int FreezeEpochs { get; init; } = 1;

    public int BatchSize { get; init; } = 32;

    /// <summary>Base learning rate: the frozen phase's maximum; the unfrozen phase uses half of it
    /// for the last layers and <see cref="LrMult"/> times less for the first.</summary>
    public double Lr { get; init; } = 2e-3;

    public double LrMult { get; init; } = 100;

    public double WeightDecay { get; init; } = 0.01;

    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Stop after this many epochs without a better validation loss (0: never).</summary>
    public int Patience { get; init; }

    public int Seed { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    public AugmentOptions Augment { get; init; } = new();

    /// <summary>Loss weight per head kind (the localisation example used 1 and 10).</summary>
    public Dictionary<string, double> LossWeights { get; init; } = [];

    /// <summary>Multi-label: the probability above which a label counts as predicted (accuracy_multi, F1).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Limits training batches per epoch (tests and quick looks; validation always sees
    /// everything); 0 means all.</summary>
    public int MaxBatches { get; init; }

    /// <summary>Weight of <see cref="Steadiness"/>'s term (0: none).</summary>
    public double Steady { get; init; }

    /// <summary>The largest camera-like noise <see cref="Steadiness"/> adds, in grey levels.</summary>
    public double SteadySigma { get; init; } = 4;

    /// <summary>The pose head's loss (<see cref="PoseLosses"/>).</summary>
    public string PoseLoss { get; init; } = PoseLosses.Squared;
}

/// <summary>One epoch's results.</summary>
internal sealed record EpochResult(int Epoch, string Phase, double TrainLoss, double ValidLoss, IReadOnlyDictionary<string, double> Metrics, double Seconds);

/// <summary>Where a run stands, saved with each checkpoint so --resume continues at the next epoch.</summary>
internal sealed record RunState(int EpochsDone, double BestValidLoss, int EpochsWithoutImprovement, List<EpochResult> History);

/// <summary>
/// fastai's Learner in TorchSharp: a model, data, a multi-task objective and AdamW with one
/// parameter group per layer group (discriminative rates), one-cycle schedules, freeze/unfreeze
/// with frozen BatchNorm kept in eval mode, gradient clipping, early stopping, and an atomic
/// checkpoint after every epoch. Every step runs in a dispose scope.
/// </summary>
internal sealed class Learner : IDisposable
{
    private const double Div = 25, DivFinal = 1e5, PctStart = 0.25, MomentumHigh = 0.95, MomentumLow = 0.85;
    private readonly Batcher _train, _valid;
    private readonly Objective _objective;
    private readonly TrainOptions _o;
    private readonly AdamW _optimizer;
    private readonly List<AdamW.ParamGroup> _groups;
    private readonly Steadiness? _steady;
    private bool _frozen;

    public Learner(MultiHeadNet model, Batcher train, Batcher valid, TrainOptions options)
    {
        Model = model;
        _train = train;
        _valid = valid;
        _o = options;
        _objective = new Objective(model.Config, options.LossWeights, options.PoseLoss);
        _steady = options.Steady > 0 ? new Steadiness(model.Config, model.Backbone.Preprocessing, options.Steady, options.SteadySigma) : null;
        torch.set_num_threads(options.Threads);
        TorchSettings.KeepFreedMemory(); // a step's activations reuse the last step's pages

        // Backbone layer groups in three chunks (early, middle, late; heads that start pretrained
        // with the backbone join the late one), then the other heads.
        IReadOnlyList<Module> layers = model.Backbone.LayerGroups;
        var groups = Enumerable.Range(0, 3).Select(c => layers.Where((_, i) => i * 3 / layers.Count == c).SelectMany(m => m.parameters()).ToList()).ToList();
        groups[2].AddRange(Body.Skip(1).SelectMany(m => m.parameters()));
        var backboneParams = new HashSet<IntPtr>(groups.SelectMany(g => g).Select(p => p.Handle));
        groups.Add([.. model.parameters().Where(p => !backboneParams.Contains(p.Handle))]);
        _groups = [.. groups.Select(g => new AdamW.ParamGroup(g, new AdamW.Options { LearningRate = options.Lr, weight_decay = options.WeightDecay, beta1 = MomentumHigh, beta2 = 0.99 }))];
        _optimizer = optim.AdamW(_groups, options.Lr, weight_decay: options.WeightDecay);
        KeepKept();
    }

    public MultiHeadNet Model { get; }

    /// <summary>What freezing stops: the backbone, and the heads that start pretrained with it.</summary>
    private IEnumerable<Module> Body => [Model.Backbone, .. Model.Heads.Where(h => h.PartOfBody), .. Model.Guide is { } g ? [g] : Array.Empty<Module>()];

    /// <summary>Whether anything learns while the body is frozen: false when every head starts
    /// pretrained with the backbone (e.g. only <c>keypoints</c> by anchors on blazeface).</summary>
    public bool LearnsWhileFrozen
    {
        get
        {
            var body = new HashSet<IntPtr>(Body.SelectMany(m => m.parameters()).Concat(Model.KeptParameters).Select(p => p.Handle));
            return Model.parameters().Any(p => !body.Contains(p.Handle));
        }
    }

    /// <summary>Whether anything learns at all: false when every head reads the path kept as
    /// imported (<see cref="ModelConfig.KeepKeypoints"/> with only the keypoints head: the
    /// backbone's later blocks would then feed nothing).</summary>
    public bool Learns => Model.Kept == null || Model.Heads.Any(h => !h.PartOfBody);

    /// <summary>Items per batch, training and validation.</summary>
    public int BatchSize => _o.BatchSize;

    /// <summary>Called after every epoch (table rows, checkpoints).</summary>
    public event Action<EpochResult>? EpochEnded;

    /// <summary>Called every few batches with (batch, batches, running loss), for progress bars.</summary>
    public event Action<int, int, double>? Progress;

    public RunState State { get; private set; } = new(0, double.PositiveInfinity, 0, []);

    /// <summary>Stops training: backbone parameters get no gradient and its BatchNorm stays in eval mode.</summary>
    public void Freeze()
    {
        _frozen = true;
        foreach (Parameter p in Body.SelectMany(m => m.parameters()))
        {
            p.requires_grad = false;
        }
    }

    public void Unfreeze()
    {
        _frozen = false;
        foreach (Parameter p in Body.SelectMany(m => m.parameters()))
        {
            p.requires_grad = true;
        }

        KeepKept();
    }

    /// <summary>The parameters kept as imported (<see cref="MultiHeadNet.KeptParameters"/>) never train.</summary>
    private void KeepKept()
    {
        foreach (Parameter p in Model.KeptParameters)
        {
            p.requires_grad = false;
        }
    }

    /// <summary>fastai's fine_tune: frozen epochs at the base rate, then all layers at half of
    /// it, spread over the layer groups. Resumes after <see cref="RunState.EpochsDone"/> epochs.</summary>
    public void FineTune(int freezeEpochs, int epochs, double baseLr)
    {
        if (freezeEpochs > 0 && State.EpochsDone < freezeEpochs)
        {
            Freeze();
            FitOneCycle(freezeEpochs, baseLr, baseLr, "frozen", 0);
        }

        if (State.EpochsDone >= freezeEpochs + epochs || StopEarly)
        {
            return;
        }

        Unfreeze();
        FitOneCycle(epochs, baseLr / 2 / _o.LrMult, baseLr / 2, "all", freezeEpochs);
    }

    /// <summary>One-cycle schedule over <paramref name="epochs"/> epochs; rates rise from
    /// max/25 to the maximum over the first quarter and fall to max/1e5, momentum the other way.
    /// The first layer group peaks at <paramref name="lrLow"/>, the heads at <paramref name="lrHigh"/>,
    /// the groups between geometrically.</summary>
    public void FitOneCycle(int epochs, double lrLow, double lrHigh, string phase = "fit", int firstEpoch = 0)
    {
        int batches = Batches(_train.Count);
        double[] peaks = [.. Enumerable.Range(0, _groups.Count).Select(g => lrLow * Math.Pow(lrHigh / lrLow, (double)g / (_groups.Count - 1)))];
        for (int e = Math.Max(0, State.EpochsDone - firstEpoch); e < epochs && !StopEarly; e++)
        {
            var clock = Stopwatch.StartNew();
            int epoch = firstEpoch + e;
            double trainLoss = TrainEpoch(epoch, batches, step => Schedule(peaks, ((e * batches) + step) / (double)(epochs * batches)));
            (double validLoss, IReadOnlyDictionary<string, double> metrics) = Validate();
            var result = new EpochResult(epoch, phase, trainLoss, validLoss, metrics, clock.Elapsed.TotalSeconds);
            bool better = validLoss < State.BestValidLoss;
            State = new RunState(epoch + 1, better ? validLoss : State.BestValidLoss, better ? 0 : State.EpochsWithoutImprovement + 1, [.. State.History, result]);
            EpochEnded?.Invoke(result);
        }
    }

    private bool StopEarly => _o.Patience > 0 && State.EpochsWithoutImprovement >= _o.Patience;

    /// <summary>Training batches per epoch: whole batches only (fastai's drop_last), so a
    /// BatchNorm never sees a batch of one; all items in one batch when there are fewer.</summary>
    private int Batches(int items)
    {
        int n = Math.Max(1, items / _o.BatchSize);
        return _o.MaxBatches > 0 ? Math.Min(n, _o.MaxBatches) : n;
    }

    private void Schedule(double[] peaks, double pct)
    {
        double lrFactor, momentum;
        if (pct < PctStart)
        {
            double p = pct / PctStart;
            lrFactor = Cos(1 / Div, 1, p);
            momentum = Cos(MomentumHigh, MomentumLow, p);
        }
        else
        {
            double p = (pct - PctStart) / (1 - PctStart);
            lrFactor = Cos(1, 1 / DivFinal, p);
            momentum = Cos(MomentumLow, MomentumHigh, p);
        }

        for (int g = 0; g < _groups.Count; g++)
        {
            _groups[g].LearningRate = peaks[g] * lrFactor;
            ((AdamW.Options)_groups[g].Options).beta1 = momentum;
        }
    }

    /// <summary>The seed of a training step's noise: the run's seed, the epoch and the step, so a
    /// resumed run draws what the uninterrupted one would have (epoch -1: validation's batches).</summary>
    private long StepSeed(int epoch, int step) => (_o.Seed * 1_000_003L) + (epoch * 100_003L) + step + 1;

    private static double Cos(double start, double end, double pct) => end + ((start - end) / 2 * (Math.Cos(Math.PI * pct) + 1));

    /// <exception cref="InvalidOperationException">The loss became NaN or infinite; the message
    /// says where. The last checkpoint is untouched.</exception>
    private double TrainEpoch(int epoch, int batches, Action<int> schedule)
    {
        Model.train();
        if (_frozen)
        {
            Model.Backbone.eval();
        }

        double sum = 0;
        int step = 0, seen = 0;
        foreach (Batch batch in _train.Epoch(_o.BatchSize, epoch, _o.Seed, _o.Augment, shuffle: true))
        {
            if (step == batches)
            {
                break;
            }

            schedule(step);
            using var pause = GcPause.Begin();
            using var scope = NewDisposeScope();
            Tensor images = tensor(batch.Images, [batch.Count, 3, batch.Size, batch.Size]);
            int copies = _steady == null || _frozen ? 0 : Steadiness.Copies(batch.Count);
            Tensor? headsOnly = _frozen || !Array.Exists(batch.HeadsOnly, h => h) ? null : tensor(batch.HeadsOnly);
            if (headsOnly is not null && copies > 0)
            {
                headsOnly = cat([headsOnly, headsOnly.narrow(0, 0, copies)], 0);
            }

            Tensor[] outputs = Model.ForwardWithGuide(copies > 0 ? _steady!.WithNoisyCopies(images, copies, StepSeed(epoch, step)) : images, headsOnly);
            (Tensor loss, Dictionary<string, double> parts) = _objective.Loss(copies > 0 ? Steadiness.Labelled(outputs, batch.Count) : outputs, Objective.ToTensors(batch));
            if (copies > 0)
            {
                Tensor change = _steady!.Change(outputs, batch.Count, copies).Loss;
                parts["steady"] = change.item<float>();
                loss = loss + (change * _steady.Weight);
            }

            double value = loss.item<float>();
            if (!double.IsFinite(value))
            {
                string heads = string.Join(", ", parts.Where(p => !double.IsFinite(p.Value)).Select(p => p.Key));
                bool badInput = Array.Exists(batch.Images, x => !float.IsFinite(x));
                throw new InvalidOperationException($"the loss is {value} at epoch {epoch + 1}, batch {step + 1} (not finite in: {heads}{(badInput ? "; the batch's images hold NaN or infinity" : "")}): training stopped (is the learning rate too high?); the last checkpoint holds epoch {State.EpochsDone}");
            }

            _optimizer.zero_grad();
            loss.backward();
            if (_o.ClipNorm > 0)
            {
                nn.utils.clip_grad_norm_(Model.parameters().Where(p => p.requires_grad), _o.ClipNorm);
            }

            _optimizer.step();
            sum += value * batch.Count;
            seen += batch.Count;
            step++;
            Progress?.Invoke(step, batches, sum / seen);
        }

        return sum / Math.Max(1, seen);
    }

    /// <summary>Validation loss and metrics with the model in eval mode.</summary>
    /// <param name="maxBatches">Stop after this many batches (0: all), for a look at a few samples.</param>
    public (double Loss, IReadOnlyDictionary<string, double> Metrics) Validate(Action<Batch, Tensor[]>? each = null, int maxBatches = 0)
    {
        Model.eval();
        var metrics = new Objective.Metrics(Model.Config, _o.Threshold);
        var steady = new Steadiness.Meter();
        double sum = 0;
        int seen = 0;
        using var noGrad = no_grad();
        int done = 0, index = 0;
        foreach (Batch batch in _valid.Epoch(_o.BatchSize, 0, _o.Seed, AugmentOptions.None, shuffle: false))
        {
            if (maxBatches > 0 && done++ == maxBatches)
            {
                break;
            }

            using var pause = GcPause.Begin();
            using var scope = NewDisposeScope();
            Tensor images = tensor(batch.Images, [batch.Count, 3, batch.Size, batch.Size]);
            int copies = _steady == null ? 0 : Steadiness.Copies(batch.Count);
            Tensor[] outputs = Model.forward(copies > 0 ? _steady!.WithNoisyCopies(images, copies, StepSeed(-1, index++), Steadiness.ValidSigma) : images);
            if (copies > 0)
            {
                (_, double deg2, double px2) = _steady!.Change(outputs, batch.Count, copies);
                steady.Add(deg2, px2, copies);
                outputs = Steadiness.Labelled(outputs, batch.Count);
            }

            (Tensor loss, _) = _objective.Loss(outputs, Objective.ToTensors(batch));
            sum += loss.item<float>() * batch.Count;
            seen += batch.Count;
            metrics.Add(outputs, batch);
            each?.Invoke(batch, outputs);
        }

        if (_steady == null)
        {
            return (sum / Math.Max(1, seen), metrics.Values);
        }

        var values = new Dictionary<string, double>(metrics.Values);
        steady.AddTo(values);
        return (sum / Math.Max(1, seen), values);
    }

    /// <summary>
    /// Learning-rate finder: from <paramref name="start"/> to <paramref name="end"/> exponentially
    /// over at most <paramref name="steps"/> batches, loss smoothed (0.98), stopping when it
    /// exceeds 4x the best. Suggests the rate of steepest descent. Weights are restored after.
    /// </summary>
    public (List<(double Lr, double Loss)> Curve, double Suggestion) LrFind(double start = 1e-7, double end = 10, int steps = 100)
    {
        string saved = Path.Combine(Path.GetTempPath(), $"lrfind-{Guid.NewGuid():N}.dat");
        Model.save(saved);
        try
        {
            Unfreeze();
            Model.train();
            var curve = new List<(double, double)>();
            double smooth = 0, best = double.PositiveInfinity;
            int step = 0;
            foreach (Batch batch in _train.Epoch(_o.BatchSize, 0, _o.Seed, _o.Augment, shuffle: true).Concat(_train.Epoch(_o.BatchSize, 1, _o.Seed, _o.Augment, shuffle: true)))
            {
                if (step >= steps)
                {
                    break;
                }

                double lr = start * Math.Pow(end / start, step / (double)(steps - 1));
                foreach (AdamW.ParamGroup g in _groups)
                {
                    g.LearningRate = lr;
                }

                using var pause = GcPause.Begin();
                using var scope = NewDisposeScope();
                Tensor[] outputs = Model.ForwardWithGuide(tensor(batch.Images, [batch.Count, 3, batch.Size, batch.Size]));
                (Tensor loss, _) = _objective.Loss(outputs, Objective.ToTensors(batch));
                double value = loss.item<float>();
                smooth = step == 0 ? value : (0.98 * smooth) + (0.02 * value);
                double debiased = smooth / (1 - Math.Pow(0.98, step + 1));
                if (!double.IsFinite(value) || debiased > 4 * best)
                {
                    break;
                }

                best = Math.Min(best, debiased);
                curve.Add((lr, debiased));
                _optimizer.zero_grad();
                loss.backward();
                _optimizer.step();
                step++;
            }

            // Steepest descent of the smoothed loss in log(lr).
            double suggestion = curve.Count > 2 ? curve[0].Item1 : start;
            double steepest = 0;
            for (int i = 1; i < curve.Count - 1; i++)
            {
                double slope = (curve[i + 1].Item2 - curve[i - 1].Item2) / (Math.Log(curve[i + 1].Item1) - Math.Log(curve[i - 1].Item1));
                if (slope < steepest)
                {
                    steepest = slope;
                    suggestion = curve[i].Item1;
                }
            }

            return (curve, suggestion);
        }
        finally
        {
            Model.load(saved);
            File.Delete(saved);
        }
    }

    /// <summary>Saves model, optimizer state and run state as one checkpoint folder, atomically.</summary>
    public void SaveCheckpoint(string dir) =>
        Checkpoint.Save(Model, dir, temp =>
        {
            _optimizer.save_state_dict(Path.Combine(temp, "optimizer.dat"));
            File.WriteAllText(Path.Combine(temp, "run.json"), JsonSerializer.Serialize(State, s_json));
        });

    /// <summary>Loads optimizer and run state saved by <see cref="SaveCheckpoint"/> (the model
    /// weights are loaded with the model).</summary>
    public void Restore(string dir)
    {
        _optimizer.load_state_dict(Path.Combine(dir, "optimizer.dat"));
        State = JsonSerializer.Deserialize<RunState>(File.ReadAllText(Path.Combine(dir, "run.json")), s_json)
            ?? throw new InvalidDataException($"{dir}/run.json: empty");
    }

    public void Dispose() => _optimizer.Dispose();

    // The best validation loss starts at infinity.
    private static readonly JsonSerializerOptions s_json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
